// ServeMux with Go 1.22's patterns (net/http's pattern.go, routing_tree.go and the ServeMux
// part of server.go, as of Go 1.22 with the 1.22.x/1.23 fixes for issues 65624 and 67657).
//
// A pattern is "[METHOD ][HOST]/[PATH]"; PATH's segments are literals (unescaped), {name}
// (one segment), {name...} (the rest, last only), {$} (the end, after a trailing slash); a
// path ending in '/' ends in an anonymous {...}. Precedence: a pattern with a host beats one
// without; otherwise the more specific pattern (the one matching a strict subset of the
// other's requests) wins, and two patterns that match a common request with neither more
// specific conflict: registering the second panics.
//
// Matching: Go walks a decision tree (host, then method, then path segments: literal before
// {x} before {x...}, backtracking). Here the registered patterns are a plain list, and each
// request is tried against every one (O(patterns) per request; a routing tree like Go's is a
// later optimization). Among the patterns that match, the winner is the one the tree would
// find first: host-specific first; then exact method, GET for a HEAD request, no method; then
// the first path position where the two differ in kind, literal < {x} < {x...}. Because
// conflicting patterns are refused at registration, that is also the most specific pattern.
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gocxx/defer.hpp"
#include "gocxx/http.hpp"
#include "gocxx/sync.hpp"
#include "pkg/http/mux_test_hooks.hpp"
#include "pkg/http/text.hpp"

namespace gocxx::http {

namespace {

// ---- patterns ---------------------------------------------------------------------------------

// One piece of a pattern's path. A literal (s, unescaped), {s} (wild), {s...} (wild and multi;
// s is empty for the anonymous one a trailing slash stands for), or {$} (dollar: matches only
// a trailing slash). Go represents {$} as the literal "/"; a separate flag keeps it apart from
// a literal written "%2F".
struct Segment {
  std::string s;
  bool wild = false;
  bool multi = false;
  bool dollar = false;
};

struct Pattern {
  std::string str;  // as registered
  std::string method;
  std::string host;
  std::vector<Segment> segments;  // never empty
  const Segment& last() const { return segments.back(); }
};

bool is_token_char(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool valid_method(std::string_view m) {
  return !m.empty() && std::all_of(m.begin(), m.end(), [](char c) {
    return is_token_char(static_cast<unsigned char>(c));
  });
}

// A Go identifier. Go asks unicode.IsLetter / IsDigit; here every non-ASCII byte counts as a
// letter.
bool valid_wildcard_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    bool digit = c >= '0' && c <= '9';
    if (!letter && (i == 0 || !digit)) return false;
  }
  return true;
}

// Unescapes a path segment; an invalid escape leaves it as it is (Go's pathUnescape).
std::string unescape_or_keep(std::string_view s) {
  auto [u, err] = path_unescape(s);
  return err ? std::string(s) : std::move(u);
}

// Go's parsePattern. On error, returns nullopt with err set to Go's text
// ("at offset N: ...").
std::optional<Pattern> parse_pattern(std::string_view s, std::string& err) {
  if (s.empty()) {
    err = "empty pattern";
    return std::nullopt;
  }
  std::size_t off = 0;
  auto fail = [&](std::string msg) {
    err = "at offset " + std::to_string(off) + ": " + std::move(msg);
    return std::nullopt;
  };
  std::string_view method, rest = s;
  bool found = false;
  if (auto i = s.find_first_of(" \t"); i != std::string_view::npos) {
    method = s.substr(0, i);
    rest = s.substr(i + 1);
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
    found = true;
  }
  if (!method.empty() && !valid_method(method)) {
    return fail("invalid method " + detail::go_quote(method));
  }
  Pattern p;
  p.str = std::string(s);
  p.method = std::string(method);
  if (found) off = method.size() + 1;
  auto i = rest.find('/');
  if (i == std::string_view::npos) return fail("host/path missing /");
  p.host = std::string(rest.substr(0, i));
  rest = rest.substr(i);
  if (auto j = p.host.find('{'); j != std::string::npos) {
    off += j;
    return fail("host contains '{' (missing initial '/'?)");
  }
  // At this point, rest is the path.
  off += i;
  // An unclean path with a method that is not CONNECT can never match, because paths are
  // cleaned before matching.
  if (!method.empty() && method != "CONNECT" && rest != detail::clean_path(rest)) {
    return fail("non-CONNECT pattern with unclean path can never match");
  }
  std::set<std::string, std::less<>> seen;  // wildcard names, to catch duplicates
  while (!rest.empty()) {
    rest.remove_prefix(1);  // invariant: rest[0] == '/'
    off = s.size() - rest.size();
    if (rest.empty()) {
      // Trailing slash.
      p.segments.push_back({.s = "", .wild = true, .multi = true});
      break;
    }
    auto k = std::min(rest.find('/'), rest.size());
    std::string_view seg = rest.substr(0, k);
    rest = rest.substr(k);
    auto brace = seg.find('{');
    if (brace == std::string_view::npos) {
      p.segments.push_back({.s = unescape_or_keep(seg)});
      continue;
    }
    if (brace != 0) return fail("bad wildcard segment (must start with '{')");
    if (seg.back() != '}') return fail("bad wildcard segment (must end with '}')");
    std::string_view name = seg.substr(1, seg.size() - 2);
    if (name == "$") {
      if (!rest.empty()) return fail("{$} not at end");
      p.segments.push_back({.s = "", .dollar = true});
      break;
    }
    bool multi = name.size() >= 3 && name.substr(name.size() - 3) == "...";
    if (multi) name.remove_suffix(3);
    if (multi && !rest.empty()) return fail("{...} wildcard not at end");
    if (name.empty()) return fail("empty wildcard");
    if (!valid_wildcard_name(name)) return fail("bad wildcard name " + detail::go_quote(name));
    if (seen.count(name) != 0) return fail("duplicate wildcard name " + detail::go_quote(name));
    seen.emplace(name);
    p.segments.push_back({.s = std::string(name), .wild = true, .multi = multi});
  }
  return p;
}

// ---- relationships between patterns ----------------------------------------------------------

enum class Rel { kEquivalent, kMoreGeneral, kMoreSpecific, kDisjoint, kOverlaps };

const char* rel_name(Rel r) {
  switch (r) {
    case Rel::kEquivalent: return "equivalent";
    case Rel::kMoreGeneral: return "moreGeneral";
    case Rel::kMoreSpecific: return "moreSpecific";
    case Rel::kDisjoint: return "disjoint";
    case Rel::kOverlaps: return "overlaps";
  }
  return "?";
}

Rel inverse(Rel r) {
  if (r == Rel::kMoreSpecific) return Rel::kMoreGeneral;
  if (r == Rel::kMoreGeneral) return Rel::kMoreSpecific;
  return r;
}

// The relationship of two patterns given those of a partition of them into two parts.
Rel combine(Rel r1, Rel r2) {
  switch (r1) {
    case Rel::kEquivalent: return r2;
    case Rel::kDisjoint: return Rel::kDisjoint;
    case Rel::kOverlaps: return r2 == Rel::kDisjoint ? Rel::kDisjoint : Rel::kOverlaps;
    case Rel::kMoreGeneral:
    case Rel::kMoreSpecific:
      if (r2 == Rel::kEquivalent) return r1;
      if (r2 == inverse(r1)) return Rel::kOverlaps;
      return r2;
  }
  return Rel::kDisjoint;
}

// "" matches every method, GET matches GET and HEAD, anything else only itself.
Rel compare_methods(const Pattern& p1, const Pattern& p2) {
  if (p1.method == p2.method) return Rel::kEquivalent;
  if (p1.method.empty()) return Rel::kMoreGeneral;
  if (p2.method.empty()) return Rel::kMoreSpecific;
  if (p1.method == "GET" && p2.method == "HEAD") return Rel::kMoreGeneral;
  if (p2.method == "GET" && p1.method == "HEAD") return Rel::kMoreSpecific;
  return Rel::kDisjoint;
}

Rel compare_segments(const Segment& s1, const Segment& s2) {
  if (s1.multi && s2.multi) return Rel::kEquivalent;
  if (s1.multi) return Rel::kMoreGeneral;
  if (s2.multi) return Rel::kMoreSpecific;
  if (s1.wild && s2.wild) return Rel::kEquivalent;
  if (s1.wild) return s2.dollar ? Rel::kDisjoint : Rel::kMoreGeneral;  // {x} never matches "/"
  if (s2.wild) return s1.dollar ? Rel::kDisjoint : Rel::kMoreSpecific;
  // Both literals ({$} included).
  if (s1.dollar != s2.dollar) return Rel::kDisjoint;
  return s1.s == s2.s ? Rel::kEquivalent : Rel::kDisjoint;
}

Rel compare_paths(const Pattern& p1, const Pattern& p2) {
  // A path pattern that doesn't end in a multi can only match paths with its own number of
  // segments.
  if (p1.segments.size() != p2.segments.size() && !p1.last().multi && !p2.last().multi) {
    return Rel::kDisjoint;
  }
  Rel rel = Rel::kEquivalent;
  std::size_t n = std::min(p1.segments.size(), p2.segments.size());
  for (std::size_t i = 0; i < n; ++i) {
    rel = combine(rel, compare_segments(p1.segments[i], p2.segments[i]));
    if (rel == Rel::kDisjoint) return rel;
  }
  if (p1.segments.size() == p2.segments.size()) return rel;
  // The shorter pattern ends in a multi, which is more general than the rest of the longer.
  if (p1.segments.size() < p2.segments.size() && p1.last().multi) {
    return combine(rel, Rel::kMoreGeneral);
  }
  if (p2.segments.size() < p1.segments.size() && p2.last().multi) {
    return combine(rel, Rel::kMoreSpecific);
  }
  return Rel::kDisjoint;
}

Rel compare_paths_and_methods(const Pattern& p1, const Pattern& p2) {
  Rel mrel = compare_methods(p1, p2);
  if (mrel == Rel::kDisjoint) return Rel::kDisjoint;
  return combine(mrel, compare_paths(p1, p2));
}

// Whether there is a request both match where neither has precedence. Different hosts never
// conflict: one is empty (and the other wins) or they match different requests.
bool conflicts_with(const Pattern& p1, const Pattern& p2) {
  if (p1.host != p2.host) return false;
  Rel rel = compare_paths_and_methods(p1, p2);
  return rel == Rel::kEquivalent || rel == Rel::kOverlaps;
}

void write_segment(std::string& b, const Segment& s) {
  b += '/';
  if (!s.multi && !s.dollar) b += s.s;
}

// A path both patterns match (they overlap).
std::string common_path(const Pattern& p1, const Pattern& p2) {
  std::string b;
  std::size_t n = std::min(p1.segments.size(), p2.segments.size());
  for (std::size_t i = 0; i < n; ++i) {
    const Segment& s1 = p1.segments[i];
    write_segment(b, s1.wild ? p2.segments[i] : s1);
  }
  for (std::size_t i = n; i < p1.segments.size(); ++i) write_segment(b, p1.segments[i]);
  for (std::size_t i = n; i < p2.segments.size(); ++i) write_segment(b, p2.segments[i]);
  return b;
}

// A path p1 matches and p2 doesn't (p1 overlaps p2 or is more general).
std::string difference_path(const Pattern& p1, const Pattern& p2) {
  std::string b;
  std::size_t n = std::min(p1.segments.size(), p2.segments.size());
  for (std::size_t i = 0; i < n; ++i) {
    const Segment& s1 = p1.segments[i];
    const Segment& s2 = p2.segments[i];
    if (s1.multi && s2.multi) {
      // From here the patterns match the same paths: the difference was earlier.
      b += '/';
      return b;
    }
    if (s1.multi && !s2.multi) {
      // A trailing slash tells them apart, unless s2 is {$}: then any segment will do; prefer
      // the wildcard's name.
      b += '/';
      if (s2.dollar) b += s1.s.empty() ? "x" : s1.s;
      return b;
    }
    if (!s1.multi && s2.multi) {
      write_segment(b, s1);
    } else if (s1.wild && s2.wild) {
      write_segment(b, s1);  // both match anything here: use the first wildcard's name
    } else if (s1.wild && !s2.wild) {
      // Any segment but s2's literal: the wildcard's name, unless that is the literal.
      if (s1.s != s2.s) {
        write_segment(b, s1);
      } else {
        b += '/';
        b += s2.s + "x";
      }
    } else {
      write_segment(b, s1);  // s1 literal; s2 a wildcard or the same literal
    }
  }
  for (std::size_t i = n; i < p1.segments.size(); ++i) write_segment(b, p1.segments[i]);
  for (std::size_t i = n; i < p2.segments.size(); ++i) write_segment(b, p2.segments[i]);
  return b;
}

// Go's describeConflict.
std::string describe_conflict(const Pattern& p1, const Pattern& p2) {
  Rel mrel = compare_methods(p1, p2);
  Rel prel = compare_paths(p1, p2);
  Rel rel = combine(mrel, prel);
  if (rel == Rel::kEquivalent) return p1.str + " matches the same requests as " + p2.str;
  if (prel == Rel::kOverlaps) {
    return p1.str + " and " + p2.str + " both match some paths, like " +
           detail::go_quote(common_path(p1, p2)) +
           ".\nBut neither is more specific than the other.\n" + p1.str + " matches " +
           detail::go_quote(difference_path(p1, p2)) + ", but " + p2.str + " doesn't.\n" +
           p2.str + " matches " + detail::go_quote(difference_path(p2, p1)) + ", but " + p1.str +
           " doesn't.";
  }
  if (mrel == Rel::kMoreGeneral && prel == Rel::kMoreSpecific) {
    return p1.str + " matches more methods than " + p2.str +
           ", but has a more specific path pattern";
  }
  if (mrel == Rel::kMoreSpecific && prel == Rel::kMoreGeneral) {
    return p1.str + " matches fewer methods than " + p2.str +
           ", but has a more general path pattern";
  }
  return "bug: unexpected way for two patterns " + p1.str + " and " + p2.str +
         " to conflict: methods " + rel_name(mrel) + ", paths " + rel_name(prel);
}

// ---- matching ---------------------------------------------------------------------------------

// Go's firstSegment: path starts with '/' (its first byte is dropped in any case); "/" alone
// is the trailing-slash segment. The segment comes back unescaped.
struct FirstSegment {
  std::string seg;
  std::string_view rest;
  bool trailing_slash;
};

FirstSegment first_segment(std::string_view path) {
  if (path == "/") return {"/", {}, true};
  path.remove_prefix(1);
  auto i = std::min(path.find('/'), path.size());
  return {unescape_or_keep(path.substr(0, i)), path.substr(i), false};
}

// Matches a (host-stripped, cleaned, escaped) path against p's segments, appending the
// wildcard values to `matches` in order.
bool match_path(const Pattern& p, std::string_view path, std::vector<std::string>& matches) {
  for (const Segment& s : p.segments) {
    if (path.empty()) return false;
    if (s.multi) {
      // The rest of the path, unescaped (a trailing-slash pattern's anonymous one records
      // nothing).
      if (!s.s.empty()) matches.push_back(unescape_or_keep(path.substr(1)));
      return true;
    }
    FirstSegment f = first_segment(path);
    if (s.dollar) {
      if (!f.trailing_slash) return false;
    } else if (s.wild) {
      if (f.trailing_slash) return false;  // a single wildcard doesn't match a trailing slash
      matches.push_back(std::move(f.seg));
    } else if (f.trailing_slash || f.seg != s.s) {
      return false;
    }
    path = f.rest;
  }
  return path.empty();
}

bool host_matches(const Pattern& p, std::string_view host) {
  return p.host.empty() || p.host == host;
}

bool method_matches(const Pattern& p, std::string_view method) {
  return p.method.empty() || p.method == method || (method == "HEAD" && p.method == "GET");
}

// Whether a beats b for a request both match (the order of Go's routing tree; see the top).
bool precedes(const Pattern& a, const Pattern& b, std::string_view method) {
  if (a.host.empty() != b.host.empty()) return !a.host.empty();
  auto method_rank = [&](const Pattern& p) { return p.method == method ? 0 : p.method.empty() ? 2 : 1; };
  if (method_rank(a) != method_rank(b)) return method_rank(a) < method_rank(b);
  auto kind = [](const Segment& s) { return s.multi ? 2 : s.wild ? 1 : 0; };
  std::size_t n = std::min(a.segments.size(), b.segments.size());
  for (std::size_t i = 0; i < n; ++i) {
    int ka = kind(a.segments[i]), kb = kind(b.segments[i]);
    if (ka != kb) return ka < kb;
    if (ka == 2) break;
  }
  return false;
}

// Go's exactMatch: the match involved no multi wildcard matching a non-empty string.
bool exact_match(const Pattern* p, std::string_view path) {
  if (p == nullptr) return false;
  if (!p->last().multi) return true;
  if (!path.empty() && path.back() != '/') return false;
  return p->segments.size() == static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

}  // namespace

// ---- ServeMux ---------------------------------------------------------------------------------

struct ServeMux::Impl {
  struct Entry {
    Pattern pattern;
    HandlerRef handler;
  };

  // Read by every request (shared), written by handle(). A gocxx RWMutex: readers are
  // goroutines, and a waiting one parks instead of blocking its thread.
  mutable sync::RWMutex mu;
  std::vector<std::unique_ptr<const Entry>> entries;  // in registration order

  struct Match {
    const Entry* entry = nullptr;
    std::vector<std::string> matches;
  };

  // The tree's match: the winning pattern for host, method and path. Caller holds mu.
  Match match(std::string_view host, std::string_view method, std::string_view path) const {
    Match best;
    std::vector<std::string> m;
    for (const auto& e : entries) {
      const Pattern& p = e->pattern;
      if (!host_matches(p, host) || !method_matches(p, method)) continue;
      if (best.entry != nullptr && !precedes(p, best.entry->pattern, method)) continue;
      m.clear();
      if (!match_path(p, path, m)) continue;
      best.entry = e.get();
      best.matches.swap(m);
    }
    return best;
  }

  static const Pattern* pattern_of(const Match& m) {
    return m.entry != nullptr ? &m.entry->pattern : nullptr;
  }

  // Go's matchOrRedirect: with u, a path that does not match exactly but would with a trailing
  // slash redirects there.
  std::pair<Match, std::optional<URL>> match_or_redirect(std::string_view host,
                                                         std::string_view method,
                                                         std::string path,
                                                         const URL* u) const {
    std::shared_lock lock(mu);
    Match n = match(host, method, path);
    if (!exact_match(pattern_of(n), path) && u != nullptr && (path.empty() || path.back() != '/')) {
      path += '/';
      Match n2 = match(host, method, path);
      if (exact_match(pattern_of(n2), path)) {
        URL to;
        to.path = detail::clean_path(u->path) + "/";
        to.raw_query = u->raw_query;
        return {Match{}, std::move(to)};
      }
    }
    return {std::move(n), std::nullopt};
  }

  // The methods of the patterns that match host and path (or path with a trailing slash),
  // sorted; GET implies HEAD.
  std::vector<std::string> matching_methods(std::string_view host, std::string_view path) const {
    std::shared_lock lock(mu);
    std::set<std::string> ms;
    std::vector<std::string> scratch;
    auto add = [&](std::string_view p) {
      for (const auto& e : entries) {
        const Pattern& pat = e->pattern;
        if (pat.method.empty() || !host_matches(pat, host)) continue;
        scratch.clear();
        if (match_path(pat, p, scratch)) ms.insert(pat.method);
      }
    };
    add(path);
    // matchOrRedirect would try a trailing slash too (issue 67657: not when there is one).
    if (path.empty() || path.back() != '/') add(std::string(path) + "/");
    if (ms.count("GET") != 0) ms.insert("HEAD");
    return {ms.begin(), ms.end()};
  }

  struct Found {
    HandlerRef handler;
    std::string pattern;
    std::vector<std::pair<std::string, std::string>> values;  // wildcard name, value
  };

  static HandlerRef redirect_handler(std::string url) {
    return HandlerRef(HandlerFunc([url = std::move(url)](ResponseWriter& w, Request& r) {
      redirect(w, r, url, status_moved_permanently);
    }));
  }

  // Go's findHandler.
  Found find_handler(const Request& r) const {
    std::string_view host = r.url.host;
    const std::string escaped_path = r.url.escaped_path();
    std::string path = escaped_path;
    Match n;
    if (r.method == "CONNECT") {
      // CONNECT requests are not canonicalized, but the /tree -> /tree/ redirect applies.
      auto [unused, to] = match_or_redirect(host, r.method, path, &r.url);
      if (to) return {redirect_handler(to->string()), to->path, {}};
      // Redo the match with the Host header, without the trailing-slash redirect.
      n = match_or_redirect(r.host, r.method, path, nullptr).first;
    } else {
      // Everything else is matched with the port stripped from the host and the path cleaned.
      host = strip_host_port(r.host);
      path = detail::clean_path(path);
      auto [m, to] = match_or_redirect(host, r.method, path, &r.url);
      if (to) return {redirect_handler(to->string()), to->path, {}};
      n = std::move(m);
      if (path != escaped_path) {
        // Redirect to the cleaned path. Go writes it through url.URL{Path: path}, which
        // escapes the already escaped path a second time ("%20" -> "%2520"; Go issue 79897);
        // gocxx sends the cleaned escaped path as it is.
        std::string to_url = path;
        if (!r.url.raw_query.empty()) to_url += "?" + r.url.raw_query;
        return {redirect_handler(std::move(to_url)),
                n.entry != nullptr ? n.entry->pattern.str : std::string(), {}};
      }
    }
    if (n.entry == nullptr) {
      // No match for the method: tell Not Found from Method Not Allowed.
      std::vector<std::string> allowed = matching_methods(host, path);
      if (!allowed.empty()) {
        std::string allow;
        for (const auto& m : allowed) {
          if (!allow.empty()) allow += ", ";
          allow += m;
        }
        return {HandlerRef(HandlerFunc([allow](ResponseWriter& w, Request&) {
                  w.header().set("Allow", allow);
                  error_reply(w, status_text(status_method_not_allowed),
                              status_method_not_allowed);
                })),
                "",
                {}};
      }
      return {HandlerRef(HandlerFunc(not_found)), "", {}};
    }
    Found f{n.entry->handler, n.entry->pattern.str, {}};
    std::size_t k = 0;
    for (const Segment& s : n.entry->pattern.segments) {
      if (s.wild && !s.s.empty() && k < n.matches.size()) f.values.emplace_back(s.s, n.matches[k++]);
    }
    return f;
  }

  // Go's stripHostPort: h without a trailing ":port" (unchanged if it does not split).
  static std::string_view strip_host_port(std::string_view h) {
    if (h.find(':') == std::string_view::npos) return h;
    // net.SplitHostPort's rules, for the forms a Host header takes.
    if (h[0] == '[') {
      auto end = h.find(']');
      if (end == std::string_view::npos || end + 1 >= h.size() || h[end + 1] != ':') return h;
      if (h.find(':', end + 2) != std::string_view::npos) return h;
      return h.substr(1, end - 1);
    }
    auto colon = h.rfind(':');
    if (h.find(':') != colon) return h;  // too many colons
    if (h.find('[') != std::string_view::npos || h.find(']') != std::string_view::npos) return h;
    return h.substr(0, colon);
  }
};

ServeMux::ServeMux() : impl_(std::make_unique<Impl>()) {}
ServeMux::~ServeMux() = default;

void ServeMux::handle(std::string_view pattern, HandlerRef handler) {
  if (pattern.empty()) gocxx::panic(std::string("http: invalid pattern"));
  if (!handler) gocxx::panic(std::string("http: nil handler"));
  std::string err;
  auto pat = parse_pattern(pattern, err);
  if (!pat) gocxx::panic("parsing " + detail::go_quote(pattern) + ": " + err);
  std::string conflict;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& e : impl_->entries) {
      if (conflicts_with(*pat, e->pattern)) {
        // Go adds where each was registered: "(registered at file:line)".
        conflict = "pattern " + detail::go_quote(pat->str) + " conflicts with pattern " +
                   detail::go_quote(e->pattern.str) + ":\n" + describe_conflict(*pat, e->pattern);
        break;
      }
    }
    if (conflict.empty()) {
      impl_->entries.push_back(
          std::make_unique<const Impl::Entry>(Impl::Entry{std::move(*pat), std::move(handler)}));
    }
  }
  if (!conflict.empty()) gocxx::panic(std::move(conflict));
}

void ServeMux::handle_func(std::string_view pattern, HandlerFunc handler) {
  handle(pattern, HandlerRef(std::move(handler)));
}

void ServeMux::serve_http(ResponseWriter& w, Request& r) {
  if (r.request_uri == "*") {
    if (r.proto_major > 1 || (r.proto_major == 1 && r.proto_minor >= 1)) {
      w.header().set("Connection", "close");
    }
    w.write_header(status_bad_request);
    return;
  }
  Impl::Found f = impl_->find_handler(r);
  r.pattern = std::move(f.pattern);
  for (auto& [name, value] : f.values) r.set_path_value(std::move(name), std::move(value));
  f.handler.serve_http(w, r);
}

std::pair<HandlerRef, std::string> ServeMux::handler(Request& r) const {
  Impl::Found f = impl_->find_handler(r);
  return {std::move(f.handler), std::move(f.pattern)};
}

// ---- hooks for tests/http_mux_test.cpp (Go's internal pattern tests) --------------------------

namespace detail {

namespace {
Pattern must_parse(std::string_view s) {
  std::string err;
  auto p = parse_pattern(s, err);
  if (!p) gocxx::panic("parsing " + go_quote(s) + ": " + err);
  return std::move(*p);
}
}  // namespace

// "" if s parses, else the error ("at offset N: ...").
std::string mux_test_parse_error(std::string_view s) {
  std::string err;
  return parse_pattern(s, err) ? std::string() : err;
}

// "METHOD|HOST|seg seg ...", segments as lit(x), wild(x), multi(x), dollar.
std::string mux_test_describe(std::string_view s) {
  Pattern p = must_parse(s);
  std::string out = p.method + "|" + p.host + "|";
  for (std::size_t i = 0; i < p.segments.size(); ++i) {
    const Segment& g = p.segments[i];
    if (i > 0) out += ' ';
    if (g.dollar) {
      out += "dollar";
    } else {
      out += g.multi ? "multi(" : g.wild ? "wild(" : "lit(";
      out += g.s + ")";
    }
  }
  return out;
}

std::string mux_test_compare_methods(std::string_view a, std::string_view b) {
  return rel_name(compare_methods(must_parse(a), must_parse(b)));
}
std::string mux_test_compare_paths(std::string_view a, std::string_view b) {
  return rel_name(compare_paths(must_parse(a), must_parse(b)));
}
bool mux_test_conflicts(std::string_view a, std::string_view b) {
  return conflicts_with(must_parse(a), must_parse(b));
}
std::string mux_test_describe_conflict(std::string_view a, std::string_view b) {
  return describe_conflict(must_parse(a), must_parse(b));
}
std::string mux_test_common_path(std::string_view a, std::string_view b) {
  return common_path(must_parse(a), must_parse(b));
}
std::string mux_test_difference_path(std::string_view a, std::string_view b) {
  return difference_path(must_parse(a), must_parse(b));
}
bool mux_test_exact_match(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return exact_match(nullptr, path);
  Pattern p = must_parse(pattern);
  return exact_match(&p, path);
}

}  // namespace detail

}  // namespace gocxx::http
