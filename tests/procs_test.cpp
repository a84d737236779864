// The default number of Ps: the affinity mask and the cgroup CPU limit (Go 1.25's rule), read
// from fake /proc and cgroup trees, and the affinity part for real in a child process; and the
// cgroup lookup it shares with the assessment's sandbox (gocxx/detail/cgroup.hpp).
#include <sched.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "gocxx/detail/cgroup.hpp"
#include "gocxx/gocxx.hpp"
#include "runtime/procs.hpp"

namespace fs = std::filesystem;
using gocxx::detail::cgroup_cpu_limit;
using gocxx::detail::locate_cgroups;
using gocxx::detail::parse_mountinfo;
using gocxx::detail::procs_for_limit;

namespace {

// A fake machine: root/proc/self/{cgroup,mountinfo} and whatever limit files a test writes.
class FakeMachine {
 public:
  FakeMachine() {
    std::string tmpl = (fs::temp_directory_path() / "gocxx-procs-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    root = tmpl;
  }
  ~FakeMachine() { fs::remove_all(root); }
  void write(const std::string& rel, const std::string& text) const {
    fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  fs::path root;
};

constexpr const char* kV2Mountinfo =
    "25 1 0:23 / / rw - ext4 /dev/vda1 rw\n"
    "31 25 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

}  // namespace

TEST(Procs, RoundsTheLimitUpToAtLeastTwoAndNeverAboveTheCpus) {
  EXPECT_EQ(procs_for_limit(16, std::nullopt), 16);
  EXPECT_EQ(procs_for_limit(16, 4.0), 4);
  EXPECT_EQ(procs_for_limit(16, 2.5), 3);   // rounded up, as Go does
  EXPECT_EQ(procs_for_limit(16, 0.5), 2);   // at least 2
  EXPECT_EQ(procs_for_limit(1, 0.5), 1);    // but never more than the CPUs
  EXPECT_EQ(procs_for_limit(4, 100.0), 4);
}

TEST(Procs, CgroupV2CpuMax) {
  FakeMachine m;
  m.write("proc/self/cgroup", "0::/system.slice/app.service\n");
  m.write("proc/self/mountinfo", kV2Mountinfo);
  m.write("sys/fs/cgroup/system.slice/app.service/cpu.max", "250000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(m.root), 2.5);
  m.write("sys/fs/cgroup/system.slice/app.service/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(m.root), std::nullopt);
  m.write("sys/fs/cgroup/system.slice/app.service/cpu.max", "garbage\n");
  EXPECT_EQ(cgroup_cpu_limit(m.root), std::nullopt);
}

TEST(Procs, CgroupV2InsideAContainersNamespace) {
  // With a cgroup namespace the process sees its own cgroup as "/" and the mount's root is "/".
  FakeMachine m;
  m.write("proc/self/cgroup", "0::/\n");
  m.write("proc/self/mountinfo", kV2Mountinfo);
  m.write("sys/fs/cgroup/cpu.max", "150000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(m.root), 1.5);
}

TEST(Procs, CgroupV2BindMountedSubtree) {
  // Without a cgroup namespace, a container may get only its own subtree mounted (root field
  // /kubepods/pod1): the path is taken relative to it. A cgroup outside the mount is not seen.
  FakeMachine m;
  m.write("proc/self/mountinfo",
          "25 1 0:23 / / rw - ext4 /dev/vda1 rw\n"
          "31 25 0:27 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n");
  m.write("sys/fs/cgroup/ctr/cpu.max", "300000 100000\n");
  m.write("proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
  EXPECT_EQ(cgroup_cpu_limit(m.root), 3.0);
  m.write("proc/self/cgroup", "0::/kubepods/pod10/ctr\n");  // a prefix, not a parent
  EXPECT_EQ(cgroup_cpu_limit(m.root), std::nullopt);
}

TEST(Procs, CgroupV1AndHybrid) {
  // cgroup v1 for cpu (with cpuacct), a v2 hierarchy beside it without the cpu controller.
  FakeMachine m;
  m.write("proc/self/cgroup", "4:memory:/jobs/7\n3:cpu,cpuacct:/jobs/7\n0::/\n");
  m.write("proc/self/mountinfo",
          "25 1 0:23 / / rw - ext4 /dev/vda1 rw\n"
          "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
          "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
          "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
  m.write("sys/fs/cgroup/cpu,cpuacct/jobs/7/cpu.cfs_quota_us", "400000\n");
  m.write("sys/fs/cgroup/cpu,cpuacct/jobs/7/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_limit(m.root), 4.0);
  m.write("sys/fs/cgroup/cpu,cpuacct/jobs/7/cpu.cfs_quota_us", "-1\n");  // no limit
  EXPECT_EQ(cgroup_cpu_limit(m.root), std::nullopt);
}

TEST(Procs, MountPointWithEscapedSpace) {
  FakeMachine m;
  m.write("proc/self/cgroup", "0::/a\n");
  m.write("proc/self/mountinfo", "31 25 0:27 / /cg\\040root rw - cgroup2 cgroup2 rw\n");
  m.write("cg root/a/cpu.max", "200000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit(m.root), 2.0);
}

TEST(Procs, NothingToReadMeansNoLimit) {
  FakeMachine m;
  EXPECT_EQ(cgroup_cpu_limit(m.root), std::nullopt);
  m.write("proc/self/cgroup", "not a cgroup line\n");
  m.write("proc/self/mountinfo", "short\n");
  EXPECT_EQ(cgroup_cpu_limit(m.root), std::nullopt);
}

// The affinity mask for real: a child limited to one CPU runs one P by default.
TEST(ProcsDeathTest, DefaultFollowsTheAffinityMask) {
  EXPECT_EXIT(
      {
        unsetenv("GOCXX_MAXPROCS");
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) std::_Exit(100);
        int seen = 0;
        gocxx::run([&] { seen = gocxx::procs(); });
        std::_Exit(seen);
      },
      testing::ExitedWithCode(1), "");
}

TEST(Cgroups, LocatesV2) {
  const auto dirs = locate_cgroups(
      "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n",
      "0::/user.slice/user-0.slice/session-3.scope\n");
  EXPECT_EQ(dirs.v2, "/sys/fs/cgroup/user.slice/user-0.slice/session-3.scope");
  EXPECT_TRUE(dirs.v1_dir("memory").empty());
  EXPECT_TRUE(dirs.v1_dir("pids").empty());
}

TEST(Cgroups, LocatesV1AndHybrid) {
  const char* mountinfo =
      "25 22 0:22 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
      "26 25 0:23 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw\n"
      "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw shared:13 - cgroup cgroup rw,cpu,cpuacct\n"
      "30 25 0:27 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory\n"
      "31 25 0:28 /docker/abc /sys/fs/cgroup/pids rw shared:15 - cgroup cgroup rw,pids\n";
  const char* self =
      "12:pids:/docker/abc/inner\n"
      "5:memory:/process_api/9ab\n"
      "3:cpu,cpuacct:/\n"
      "0::/\n";
  const auto dirs = locate_cgroups(mountinfo, self);
  EXPECT_EQ(dirs.v2, "/sys/fs/cgroup/unified/");
  EXPECT_EQ(dirs.v1_dir("memory"), "/sys/fs/cgroup/memory/process_api/9ab");
  EXPECT_EQ(dirs.v1_dir("pids"), "/sys/fs/cgroup/pids/inner");  // the mount's root is /docker/abc
  EXPECT_EQ(dirs.v1_dir("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/");
}

TEST(Cgroups, ParsesMountinfoEscapes) {
  const auto mounts = parse_mountinfo(
      "40 30 8:1 /a\\040b /mnt/with\\040space rw master:1 shared:2 - ext4 /dev/sda1 rw\n");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].root, "/a b");
  EXPECT_EQ(mounts[0].mount_point, "/mnt/with space");
  EXPECT_EQ(mounts[0].fstype, "ext4");
  EXPECT_EQ(mounts[0].super_options, "rw");
}


// A mount whose root is a sibling with a common prefix does not show the process's cgroup.
TEST(Cgroups, MountRootMustBeAParentDirectory) {
  const auto dirs = locate_cgroups("31 25 0:28 /docker/abc /cg rw - cgroup2 cgroup2 rw\n", "0::/docker/abcd\n");
  EXPECT_TRUE(dirs.v2.empty());
  EXPECT_EQ(locate_cgroups("31 25 0:28 /docker/abc /cg rw - cgroup2 cgroup2 rw\n", "0::/docker/abc/x\n").v2, "/cg/x");
}
