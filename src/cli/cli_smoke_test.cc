// Runs the real `prescient` binary end to end on the real-run fixture: help, errors, predict
// (fallback and model), batch, train, evaluate with baselines.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

struct ExecResult {
  int code = -1;
  std::string out;
};

ExecResult Exec(const std::string& args) {
  const std::string cmd = std::string(PRESCIENT_BIN) + " " + args + " 2>/dev/null";
  ExecResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const char* kFixture = "src/model/testdata/real_runs.jsonl";

class CliSmoke : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::TempDir() + "/prescient_cli_" + std::to_string(getpid());
    std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str());
  }
  static void TearDownTestSuite() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  static std::string dir_;
};
std::string CliSmoke::dir_;

TEST_F(CliSmoke, HelpAndUsageErrors) {
  EXPECT_EQ(Exec("--help").code, 0);
  for (const char* sub : {"predict", "train", "evaluate"}) {
    const ExecResult r = Exec(std::string(sub) + " --help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("usage: prescient"), std::string::npos) << sub;
  }
  EXPECT_EQ(Exec("frobnicate").code, 2);
  EXPECT_EQ(Exec("predict").code, 2);
  EXPECT_EQ(Exec("predict 'ls' --vm-memory lots").code, 2);
  EXPECT_EQ(Exec("train --out /tmp/x").code, 2);  // --history is required
  EXPECT_EQ(Exec("predict 'ls' --model /nonexistent/model").code, 1);
}

TEST_F(CliSmoke, TrainPredictBatchEvaluate) {
  const std::string model = dir_ + "/model";
  ExecResult r = Exec(std::string("train --history ") + kFixture + " --out " + model +
               " --rounds 20 --threads 1 --train-fraction 0.7 --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  auto summary = nlohmann::json::parse(r.out);
  EXPECT_GT(summary["rows"].get<int>(), 200);

  r = Exec("predict 'gzip -9 -c rand-4M.bin > out.gz' --input-bytes 4Mi --vm-cpus 2 -o json --model " + model);
  ASSERT_EQ(r.code, 0) << r.out;
  auto p = nlohmann::json::parse(r.out);
  EXPECT_EQ(p["source"], "model");
  EXPECT_GT(p["memory_bytes"].get<double>(), 0);
  EXPECT_TRUE(p.contains("contributions"));
  EXPECT_EQ(p["quantile"]["memory_bytes"], 0.95);

  r = Exec("predict 'pg_dump -h db -Fc orders' --no-model -o json");
  ASSERT_EQ(r.code, 0);
  p = nlohmann::json::parse(r.out);
  EXPECT_EQ(p["source"], "default");
  EXPECT_EQ(p["dependencies"][0]["endpoint"], "db:5432");

  r = Exec("predict 'sort -S 8M big.txt' --model " + model);
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("memory"), std::string::npos);
  EXPECT_NE(r.out.find("top features"), std::string::npos);

  // Batch: one output line per input line, in order, errors included.
  const std::string batch = dir_ + "/batch.jsonl";
  {
    std::ofstream f(batch);
    f << R"({"time":"2026-11-28T00:00:00Z","command":"gzip -1 a"})" << "\n"
      << "not json\n"
      << R"({"command":"xz -9 b","context":{"input_bytes":1000}})" << "\n";
  }
  r = Exec("predict --batch " + batch + " --model " + model);
  ASSERT_EQ(r.code, 0);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> out;
  while (std::getline(lines, line)) out.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["signature"].get<std::string>().substr(0, 4), "gzip");
  EXPECT_EQ(out[1]["line"], 2);
  EXPECT_EQ(out[2]["signature"].get<std::string>().substr(0, 2), "xz");

  r = Exec("evaluate --baselines -o json --model " + model + " --history " + kFixture);
  ASSERT_EQ(r.code, 0) << r.out;
  auto rep = nlohmann::json::parse(r.out);
  EXPECT_GT(rep["test_rows"].get<int>(), 50);
  bool saw_vpa = false, saw_model = false;
  for (const auto& x : rep["results"]) {
    saw_vpa = saw_vpa || x["method"] == "vpa";
    saw_model = saw_model || x["method"] == "prescient";
  }
  EXPECT_TRUE(saw_vpa);
  EXPECT_TRUE(saw_model);

  // A model trained on everything leaves nothing to score: a clear error, not empty numbers.
  const std::string full = dir_ + "/full";
  ASSERT_EQ(Exec(std::string("train --history ") + kFixture + " --out " + full + " --rounds 5").code, 0);
  EXPECT_EQ(Exec("evaluate --model " + full + " --history " + kFixture).code, 1);
}

}  // namespace
