#include "analysis/command_features.h"

#include <gtest/gtest.h>

namespace prescient::analysis {
namespace {

TEST(NumberWithUnit, Table) {
  struct Case {
    const char* text;
    bool ok;
    double value;
    bool unit;
  };
  const Case cases[] = {
      {"8", true, 8, false},          {"1M", true, 1048576, true},      {"10G", true, 10737418240.0, true},
      {"1.5k", true, 1536, true},     {"4GiB", true, 4294967296.0, true}, {"100MB", true, 100e6, true},
      {"512", true, 512, false},      {"50%", true, 50, false},          {"2T", true, 2199023255552.0, true},
      {"8x", false, 0, false},        {"abc", false, 0, false},          {"1.2.3", false, 0, false},
      {"", false, 0, false},          {"M", false, 0, false},            {"12Mix", false, 0, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    double v = -1;
    bool unit = false;
    EXPECT_EQ(ParseNumberWithUnit(c.text, &v, &unit), c.ok);
    if (c.ok) {
      EXPECT_DOUBLE_EQ(v, c.value);
      EXPECT_EQ(unit, c.unit);
    }
  }
}

TEST(CommandFeatures, SubcommandsTable) {
  struct Case {
    const char* command;
    const char* program;
    const char* subcommand;
  };
  const Case cases[] = {
      {"git -C /repo push origin main", "git", "push"},
      {"docker build -t x .", "docker", "build"},
      {"docker compose up -d", "docker", "compose up"},
      {"kubectl -n prod get pods", "kubectl", "get"},
      {"kubectl rollout status deploy/x", "kubectl", "rollout status"},
      {"aws s3 cp big s3://bucket/k", "aws", "s3 cp"},
      {"pg_dump -Fc orders", "pg_dump", "format=c"},
      {"pg_dump --format=directory -j 4 orders", "pg_dump", "format=d"},
      {"pg_dump orders", "pg_dump", "format=p"},
      {"tar czf out.tgz dir", "tar", "c+z"},
      {"tar -xJf in.tar.xz", "tar", "x+J"},
      {"tar --create --zstd -f x.tar.zst d", "tar", "c+s"},
      {"python3 -m http.server 8000", "python3", "-m http.server"},
      {"python3 /opt/train.py --epochs 3", "python3", "train.py"},
      {"make CC=clang -j8 all", "make", "all"},
      {"cd /src && make -j4", "make", ""},
      {"cat f | gzip -9", "gzip", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.command);
    const CommandFeatures f = AnalyzeCommand(c.command);
    EXPECT_EQ(f.program, c.program);
    EXPECT_EQ(f.subcommand, c.subcommand);
  }
}

TEST(CommandFeatures, NumericSlots) {
  struct Case {
    const char* command;
    double parallelism, level, size, count, bytes;
  };
  const Case cases[] = {
      {"make -j8", 8, 0, 0, 0, 0},
      {"xz --threads=4 -9 big", 4, 9, 0, 0, 0},
      {"zstd -19 -T2 f", 2, 19, 0, 0, 0},
      {"dd if=/dev/zero of=x bs=1M count=100", 0, 0, 1048576, 100, 104857600},
      {"sort -S 10G big", 0, 0, 10737418240.0, 0, 0},
      {"head -c 10G /dev/urandom", 0, 0, 10737418240.0, 0, 10737418240.0},
      {"gzip --best f", 0, 9, 0, 0, 0},
      {"pigz -p 6 f", 6, 0, 0, 0, 0},
      {"head -n 5 f", 0, 0, 0, 5, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.command);
    const CommandFeatures f = AnalyzeCommand(c.command);
    EXPECT_DOUBLE_EQ(f.parallelism, c.parallelism);
    EXPECT_DOUBLE_EQ(f.compression_level, c.level);
    EXPECT_DOUBLE_EQ(f.size_arg_bytes, c.size);
    EXPECT_DOUBLE_EQ(f.count_arg, c.count);
    EXPECT_DOUBLE_EQ(f.bytes_requested, c.bytes);
  }
}

TEST(CommandFeatures, LiteralMaxReadsNumbersInsideCode) {
  EXPECT_DOUBLE_EQ(AnalyzeCommand("python3 -c 'd = {i: str(i) for i in range(5120000)}'").literal_max, 5120000);
  EXPECT_DOUBLE_EQ(AnalyzeCommand("perl -e '@a = map { $_ * 2 } 1 .. 6400000'").literal_max, 6400000);
  EXPECT_DOUBLE_EQ(AnalyzeCommand("python3 -c 'x = 5_120_000'").literal_max, 5120000);
  EXPECT_DOUBLE_EQ(AnalyzeCommand("gzip -9 data/file-3.bin").literal_max, 9);
  EXPECT_DOUBLE_EQ(AnalyzeCommand("ls").literal_max, 0);
}

TEST(CommandFeatures, FlagsAreNormalisedAndHashedOrderFree) {
  const CommandFeatures a = AnalyzeCommand("sort -u -n --parallel=2 f");
  const CommandFeatures b = AnalyzeCommand("sort --parallel=2 -n -u g");
  ASSERT_EQ(a.stages.size(), 1u);
  EXPECT_EQ(a.stages[0].flags, (std::vector<std::string>{"--parallel", "-n", "-u"}));
  EXPECT_EQ(a.stages[0].flags_hash, b.stages[0].flags_hash);
  EXPECT_NE(a.stages[0].flags_hash, AnalyzeCommand("sort -n f").stages[0].flags_hash);
}

TEST(CommandFeatures, SignatureDropsPathsKeepsFlagValues) {
  EXPECT_EQ(AnalyzeCommand("gzip -9 /data/a.bin").signature, AnalyzeCommand("gzip -9 ./b.bin").signature);
  EXPECT_NE(AnalyzeCommand("gzip -9 a.bin").signature, AnalyzeCommand("gzip -1 a.bin").signature);
  EXPECT_NE(AnalyzeCommand("sort -S 1G f").signature, AnalyzeCommand("sort -S 2G f").signature);
  EXPECT_EQ(AnalyzeCommand("sudo nice gzip -9 f").signature, AnalyzeCommand("gzip -9 g").signature);
  const CommandFeatures p = AnalyzeCommand("cat x | tr a-z A-Z | sort > out");
  EXPECT_EQ(p.shape, "cat|tr|sort");
  EXPECT_EQ(p.program, "tr");
  EXPECT_EQ(p.pipes, 2);
  EXPECT_EQ(AnalyzeCommand("psql -c 'select 1'").signature, "psql -c select 1");
}

TEST(CommandFeatures, PathsAndRedirections) {
  const CommandFeatures f = AnalyzeCommand("gzip -c in.txt > /tmp/out.gz 2>/dev/null");
  ASSERT_EQ(f.stages.size(), 1u);
  EXPECT_EQ(f.stages[0].paths, (std::vector<std::string>{"in.txt", "/tmp/out.gz"}));
  EXPECT_EQ(f.output_redirects, 2);
  EXPECT_FALSE(f.stdout_to_devnull);
  EXPECT_TRUE(AnalyzeCommand("make > /dev/null").stdout_to_devnull);
  EXPECT_TRUE(LooksLikePath("a/b"));
  EXPECT_TRUE(LooksLikePath("file.tar"));
  EXPECT_FALSE(LooksLikePath("https://x/y"));
  EXPECT_FALSE(LooksLikePath("1.5"));
  EXPECT_FALSE(LooksLikePath("orders"));
}

TEST(CommandFeatures, Categories) {
  EXPECT_EQ(CategoryOf("gzip"), ProgramCategory::kCompression);
  EXPECT_EQ(CategoryOf("pg_dump"), ProgramCategory::kDatabase);
  EXPECT_EQ(CategoryOf("python3.11"), ProgramCategory::kInterpreter);
  EXPECT_EQ(CategoryOf("no-such-tool"), ProgramCategory::kUnknown);
}

}  // namespace
}  // namespace prescient::analysis
