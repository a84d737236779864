// Where the calling process's cgroups are, from /proc/self/mountinfo and /proc/self/cgroup.
// The runtime reads its CPU limit through this (src/runtime/procs.cpp: Go's GOMAXPROCS default)
// and the assessment's sandbox finds the cgroups it nests its runs under (assess/engine), so
// both see the same hierarchies on v1, v2 and hybrid machines. Nothing here is API: user code
// must not name gocxx::detail.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gocxx::detail {

// One line of /proc/self/mountinfo, its escapes (\040 for a space, ...) undone.
struct MountInfo {
  std::string root;           // the mount's root inside its filesystem
  std::string mount_point;
  std::string fstype;
  std::string super_options;  // for cgroup v1: the controllers ("rw,memory")
};
std::vector<MountInfo> parse_mountinfo(std::string_view text);

// The calling process's own cgroup directory in each mounted hierarchy: `v2` in the unified
// one, `v1` per controller ("cpu", "memory", "pids", ...). A hierarchy that is not mounted, or
// whose mount does not show the process's cgroup (a container that sees only a subtree that
// does not hold it), has no entry. Paths are the mount point's plus the cgroup's path below the
// mount's root.
struct CgroupDirs {
  std::filesystem::path v2;
  std::map<std::string, std::filesystem::path, std::less<>> v1;

  // The v1 directory of a controller, or an empty path.
  std::filesystem::path v1_dir(std::string_view controller) const;
};
CgroupDirs locate_cgroups(std::string_view mountinfo, std::string_view proc_self_cgroup);

}  // namespace gocxx::detail
