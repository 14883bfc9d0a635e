// End to end (label acceptance): hack/quickstart.sh with the already-built binaries — prescient-sim
// with the quickstart scenario, prescient-operator, one real prescient-agent per VMI running the real
// commands of examples/ under cgroup limits — must finish every CommandRun and print the table.
// Needs root (the agents' cgroups), kubectl, python3 and the three binaries; skips otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/sim_process.h"

namespace {

TEST(Quickstart, EveryExampleRunFinishesWithItsMeasuredUsage) {
  std::string bin = PRESCIENT_BIN_DIR;
  for (const char* b : {"prescient-sim", "prescient-operator", "prescient-agent"}) {
    if (access((bin + "/" + b).c_str(), X_OK) != 0) GTEST_SKIP() << "needs " << bin << "/" << b;
  }
  if (geteuid() != 0) GTEST_SKIP() << "the agents need root for their cgroups";
  std::string run_dir = (std::filesystem::temp_directory_path() / ("prescient-e2e-" + std::to_string(getpid()))).string();
  std::filesystem::path build = std::filesystem::path(bin).parent_path();
  std::string source = PRESCIENT_SOURCE_DIR;
  std::vector<std::string> argv = {"env", "SKIP_DEPS=1", "SKIP_BUILD=1", "TIME_SCALE=20", "TIMEOUT=240",
                                   "RUN_DIR=" + run_dir,
                                   "BUILD_DIR=" + std::filesystem::relative(build, source).string(),
                                   source + "/hack/quickstart.sh"};
  auto r = prescient::testing::RunCommand(argv, "", std::chrono::seconds(400));
  ASSERT_EQ(r.exit_code, 0) << r.ToString();
  // The table lists every example run as Succeeded, with a prediction, an allocation and usage.
  for (const char* run : {"checksum", "memory-heavy", "big-sort", "low-priority-scan", "high-priority-compress",
                          "backup-docs"}) {
    size_t at = r.out.find(std::string(run) + " ");
    ASSERT_NE(at, std::string::npos) << run << "\n" << r.out;
    std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    EXPECT_NE(line.find("Succeeded"), std::string::npos) << line;
  }
  // The operator recorded what the agents measured in the durable history.
  std::ifstream h(run_dir + "/history/history.jsonl");
  std::stringstream b;
  b << h.rdbuf();
  EXPECT_NE(b.str().find("\"command\":\"head -c 100M /dev/urandom | sha256sum\""), std::string::npos) << b.str();
  std::filesystem::remove_all(run_dir);
}

}  // namespace
