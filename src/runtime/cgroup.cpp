// Locating the process's cgroups (gocxx/detail/cgroup.hpp). The formats are the kernel's:
//   mountinfo: id parent major:minor root mount-point options [optional...] - fstype source super-options
//   /proc/self/cgroup: hierarchy-id:controller-list:path ("0::/path" is the v2 hierarchy)
#include "gocxx/detail/cgroup.hpp"

#include <charconv>
#include <utility>

namespace gocxx::detail {
namespace {

namespace fs = std::filesystem;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 4, v, 8);
      if (ec == std::errc() && p == s.data() + i + 4) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

bool has_word(std::string_view list, std::string_view word, char sep) {
  for (std::string_view w : split(list, sep)) {
    if (w == word) return true;
  }
  return false;
}

// cgroup_path (as /proc/self/cgroup shows it) under mount m, or an empty path when the mount
// shows another part of the hierarchy (its root is not cgroup_path or one of its parents).
fs::path under_mount(const MountInfo& m, std::string_view cgroup_path) {
  std::string_view rel = cgroup_path;
  if (m.root != "/") {
    if (!(rel == m.root || (rel.starts_with(m.root) && rel[m.root.size()] == '/'))) return {};
    rel.remove_prefix(m.root.size());
  }
  while (rel.starts_with('/')) rel.remove_prefix(1);
  return fs::path(m.mount_point) / std::string(rel);
}

}  // namespace

std::vector<MountInfo> parse_mountinfo(std::string_view text) {
  std::vector<MountInfo> out;
  for (std::string_view line : split(text, '\n')) {
    const auto dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const auto head = split(line.substr(0, dash), ' ');
    const auto tail = split(line.substr(dash + 3), ' ');
    if (head.size() < 5 || tail.size() < 3) continue;
    out.push_back(MountInfo{unescape_octal(head[3]), unescape_octal(head[4]), std::string(tail[0]),
                            std::string(tail[2])});
  }
  return out;
}

fs::path CgroupDirs::v1_dir(std::string_view controller) const {
  const auto it = v1.find(controller);
  return it == v1.end() ? fs::path() : it->second;
}

CgroupDirs locate_cgroups(std::string_view mountinfo, std::string_view proc_self_cgroup) {
  std::string_view v2_path;
  bool has_v2 = false;
  std::vector<std::pair<std::string_view, std::string_view>> v1;  // controller list, path
  for (std::string_view line : split(proc_self_cgroup, '\n')) {
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (line.substr(0, first) == "0" && controllers.empty()) {
      has_v2 = true;
      v2_path = path;
    } else {
      v1.emplace_back(controllers, path);
    }
  }
  CgroupDirs dirs;
  for (const MountInfo& m : parse_mountinfo(mountinfo)) {
    if (m.fstype == "cgroup2" && has_v2 && dirs.v2.empty()) {
      dirs.v2 = under_mount(m, v2_path);
    } else if (m.fstype == "cgroup") {
      for (const auto& [controllers, path] : v1) {
        for (std::string_view c : split(controllers, ',')) {
          if (c.empty() || dirs.v1.contains(c) || !has_word(m.super_options, c, ',')) continue;
          if (fs::path dir = under_mount(m, path); !dir.empty()) dirs.v1.emplace(std::string(c), std::move(dir));
        }
      }
    }
  }
  return dirs;
}

}  // namespace gocxx::detail
