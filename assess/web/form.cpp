#include "web/form.hpp"

#include <charconv>

#include "engine/store_input.hpp"

namespace assess::web {

namespace http = gocxx::http;

namespace {

bool allowed(std::string_view name, const std::vector<std::string_view>& fields) {
  for (std::string_view f : fields) {
    if (f.ends_with('*') ? name.starts_with(f.substr(0, f.size() - 1)) : name == f) return true;
  }
  return false;
}

std::string decode(std::string_view s) {
  std::string plus(s);
  for (char& c : plus)
    if (c == '+') c = ' ';
  auto [v, err] = http::path_unescape(plus);  // path rules: '+' was handled above
  if (err) throw FormError(http::status_bad_request, "malformed form field: " + err.message());
  if (input::invalid_utf8_at(v) != std::string::npos)
    throw FormError(http::status_bad_request, "a form field is not valid UTF-8");
  return v;
}

}  // namespace

std::optional<long long> parse_integer(std::string_view s, long long lo, long long hi) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  long long v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

Form Form::parse(std::string_view body, const std::vector<std::string_view>& fields) {
  Form f;
  while (!body.empty()) {
    std::size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string name = decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
    if (!allowed(name, fields)) throw FormError(http::status_bad_request, "unknown form field \"" + name + "\"");
    f.values_[name].push_back(std::move(value));
  }
  return f;
}

const std::string& Form::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw FormError(http::status_bad_request, "missing form field \"" + std::string(name) + "\"");
  if (it->second.size() != 1)
    throw FormError(http::status_bad_request, "form field \"" + std::string(name) + "\" given more than once");
  return it->second.front();
}

std::string Form::get_or(std::string_view name, std::string def) const { return has(name) ? get(name) : def; }

std::vector<std::string> Form::all(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

long long Form::integer(std::string_view name, long long lo, long long hi) const {
  const std::string& s = get(name);
  if (auto v = parse_integer(s, lo, hi)) return *v;
  throw FormError(http::status_bad_request, "form field \"" + std::string(name) + "\" must be an integer from " +
                                                std::to_string(lo) + " to " + std::to_string(hi));
}

bool Form::flag(std::string_view name) const {
  if (!has(name)) return false;
  if (get(name) != "on") throw FormError(http::status_bad_request, "form field \"" + std::string(name) + "\" must be \"on\"");
  return true;
}

std::map<std::string, std::string> Form::with_prefix(std::string_view prefix) const {
  std::map<std::string, std::string> out;
  for (const auto& [name, vs] : values_)
    if (name.starts_with(prefix)) out[name.substr(prefix.size())] = get(name);
  return out;
}

Form read_form(http::ResponseWriter& w, http::Request& r, std::size_t max_bytes,
               const std::vector<std::string_view>& fields) {
  std::string type = r.header.get("Content-Type");
  std::string_view media = std::string_view(type).substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media != "application/x-www-form-urlencoded")
    throw FormError(kUnsupportedMediaType, "forms must be application/x-www-form-urlencoded");
  if (r.content_length > static_cast<std::int64_t>(max_bytes))
    throw FormError(http::status_request_entity_too_large, "the form is too large");
  http::Body body = http::max_bytes_reader(w, r.body, static_cast<std::int64_t>(max_bytes));
  auto [text, err] = body.read_all();
  if (err) {
    if (gocxx::errors::as<http::MaxBytesError>(err))
      throw FormError(http::status_request_entity_too_large, "the form is too large");
    throw FormError(http::status_bad_request, "reading the form: " + err.message());
  }
  return Form::parse(text, fields);
}

}  // namespace assess::web
