#include "common/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace prescient::log {
namespace {

std::vector<std::string>* g_lines;
void Capture(const std::string& line) { g_lines->push_back(line); }

TEST(Log, WritesOneJsonObjectPerLineWithFields) {
  std::vector<std::string> lines;
  g_lines = &lines;
  SetSink(&Capture);
  Logger l = Logger("reconciler").With({{"namespace", "ns"}, {"name", "run-1"}});
  l.Info("predicted", {{"cpu", 2}});
  l.Debug("hidden");
  SetSink(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["msg"], "predicted");
  EXPECT_EQ(j["namespace"], "ns");
  EXPECT_EQ(j["name"], "run-1");
  EXPECT_EQ(j["cpu"], 2);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["logger"], "reconciler");
}

TEST(Log, ParsesZapLevels) {
  Level l;
  ASSERT_TRUE(ParseLevel("debug", &l));
  EXPECT_EQ(l, Level::kDebug);
  ASSERT_TRUE(ParseLevel("error", &l));
  EXPECT_EQ(l, Level::kError);
  EXPECT_FALSE(ParseLevel("loud", &l));
}

}  // namespace
}  // namespace prescient::log
