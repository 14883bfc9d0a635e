#include "common/quantity.h"

#include <gtest/gtest.h>

namespace prescient {
namespace {

TEST(Quantity, ParsesCpu) {
  struct Case { const char* in; int64_t milli; } cases[] = {
      {"250m", 250}, {"2", 2000}, {"0.5", 500}, {"1.5", 1500}, {"100u", 1}, {"1e3", 1000000}, {"0.1", 100},
  };
  for (const auto& c : cases) {
    auto r = ParseCpuMilli(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status().ToString();
    EXPECT_EQ(*r, c.milli) << c.in;
  }
}

TEST(Quantity, ParsesBytes) {
  EXPECT_EQ(*ParseBytes("4Gi"), 4LL << 30);
  EXPECT_EQ(*ParseBytes("128Mi"), 128LL << 20);
  EXPECT_EQ(*ParseBytes("1G"), 1000000000LL);
  EXPECT_EQ(*ParseBytes("1.5Gi"), 1610612736LL);
  EXPECT_EQ(*ParseBytes("123"), 123);
}

TEST(Quantity, RejectsGarbageWithClearMessage) {
  for (const char* bad : {"", "abc", "4GB", "1e", "--1", "1e99", "Mi"}) {
    auto r = ParseBytes(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
  EXPECT_NE(ParseBytes("4GB").status().message().find("unknown suffix"), std::string::npos);
}

TEST(Quantity, Formats) {
  EXPECT_EQ(FormatCpuMilli(250), "250m");
  EXPECT_EQ(FormatCpuMilli(3000), "3");
  EXPECT_EQ(FormatBytes(4LL << 30), "4Gi");
  EXPECT_EQ(FormatBytes(1536LL << 20), "1536Mi");
  EXPECT_EQ(FormatBytes(1000), "1000");
  EXPECT_EQ(HumanBytes(1536.0 * 1024 * 1024), "1.5 GiB");
}

}  // namespace
}  // namespace prescient
