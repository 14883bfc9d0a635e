// `prescient collect` end to end on this machine: a few real runs (ones that need no generated
// input files, to stay fast) under real cgroups, the history lines they produce, and resuming.
// Needs root and cgroups; skips with the reason otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collect/collect_main.h"
#include "exec/cgroup.h"

namespace prescient::collect {
namespace {

namespace fs = std::filesystem;

int RunCollect(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return CollectMain(static_cast<int>(args.size()), argv.data());
}

std::vector<nlohmann::json> ReadLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(CollectMain, RunsMeasuresWritesHistoryAndResumes) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
  auto cgroups = exec::DetectCgroups();
  if (!cgroups.ok()) GTEST_SKIP() << "no usable cgroups: " << cgroups.status().ToString();
  std::string t = (fs::temp_directory_path() / "prescient-collect-it-XXXXXX").string();
  std::string dir = ::mkdtemp(t.data());
  std::string out = dir + "/history.jsonl";
  std::string parent = "prescient-test-collect-" + std::to_string(::getpid());
  std::vector<std::string> args = {"collect", "--runs", "100", "--seed", "1", "--out", out, "--workdir", dir + "/work",
                                   "--no-http", "--no-postgres", "--cgroup-parent", parent, "--interval-ms", "50",
                                   "--only", "sqlite3 insert,factor,bc"};
  ASSERT_EQ(RunCollect(args), 0);
  auto lines = ReadLines(out);
  ASSERT_EQ(lines.size(), 3u);
  std::vector<std::string> ids;
  for (const auto& j : lines) {
    ids.push_back(j["suite_case"]);
    EXPECT_EQ(j["seed"], 1);
    EXPECT_TRUE(j["time"].is_string());
    EXPECT_TRUE(j["command"].is_string());
    EXPECT_EQ(j["user"], "collect");
    EXPECT_GT(j["usage"]["memory_peak_bytes"].get<int64_t>(), 0) << j.dump();
    EXPECT_TRUE(j["usage"].contains("memory_peak_source"));
    EXPECT_EQ(j["usage"]["exit_code"], 0) << j.dump();
    EXPECT_GT(j["usage"]["cpu_seconds"].get<double>(), 0.0) << j.dump();
    EXPECT_GT(j["context"]["vm_cpus"].get<int>(), 0);
    EXPECT_FALSE(j["context"].contains("input_bytes"));  // these read no input files
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"c000065", "c000076", "c000091"}));

  // Resume: nothing left to do, nothing written twice.
  ASSERT_EQ(RunCollect(args), 0);
  EXPECT_EQ(ReadLines(out).size(), 3u);

  // Another seed in the same file is refused rather than mixed in.
  auto other = args;
  other[4] = "2";
  EXPECT_NE(RunCollect(other), 0);
  EXPECT_EQ(ReadLines(out).size(), 3u);

  // The runs' groups are gone; remove the (empty) parent.
  auto left = (*cgroups)->List(parent);
  if (left.ok()) {
    EXPECT_TRUE(left->empty());
  }
  if (auto p = (*cgroups)->Open(parent); p.ok()) (*p)->Destroy();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace prescient::collect
