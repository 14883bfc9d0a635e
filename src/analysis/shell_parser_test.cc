#include "analysis/shell_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace prescient::analysis {
namespace {

std::vector<std::string> Programs(const ParsedCommand& p) {
  std::vector<std::string> out;
  for (const Stage& s : p.stages) out.push_back(s.argv.empty() ? "" : s.argv[0]);
  return out;
}

struct ParseCase {
  std::string command;
  std::vector<std::vector<std::string>> argv;  // per stage
  std::vector<std::string> connectors;
};

TEST(ShellParser, Table) {
  const std::vector<ParseCase> cases = {
      {"gzip -9 file", {{"gzip", "-9", "file"}}, {}},
      {"echo 'a b' \"c $HOME d\" e\\ f", {{"echo", "a b", "c $HOME d", "e f"}}, {}},
      {"echo \"say \\\"hi\\\"\"", {{"echo", "say \"hi\""}}, {}},
      {"echo $'tab\\there'", {{"echo", "tab\there"}}, {}},
      {"cat a | sort -u | wc -l", {{"cat", "a"}, {"sort", "-u"}, {"wc", "-l"}}, {"|", "|"}},
      {"make && make test || echo fail; ls", {{"make"}, {"make", "test"}, {"echo", "fail"}, {"ls"}},
       {"&&", "||", ";"}},
      {"echo 'a|b' \"c&&d\"", {{"echo", "a|b", "c&&d"}}, {}},
      {"sudo -u postgres nice -n 10 pg_dump -Fc orders", {{"pg_dump", "-Fc", "orders"}}, {}},
      {"env -i FOO=1 BAR=2 python3 x.py", {{"python3", "x.py"}}, {}},
      {"timeout -s KILL 30s ionice -c3 xz -9 big", {{"xz", "-9", "big"}}, {}},
      {"time -p stdbuf -oL nohup taskset -c 0,1 make -j2", {{"make", "-j2"}}, {}},
      {"bash -c 'tar czf out.tgz dir && rm -rf dir'", {{"tar", "czf", "out.tgz", "dir"}, {"rm", "-rf", "dir"}},
       {"&&"}},
      {"sh -ec \"sort big | uniq -c\"", {{"sort", "big"}, {"uniq", "-c"}}, {"|"}},
      {"find . -name '*.log' | xargs -P 4 -n 10 gzip -9", {{"find", ".", "-name", "*.log"}, {"gzip", "-9"}}, {"|"}},
      {"(cd /src && make -j8) > build.log 2>&1", {{"cd", "/src"}, {"make", "-j8"}}, {"&&"}},
      {"FOO=bar BAZ='x y' ./run.sh --fast", {{"./run.sh", "--fast"}}, {}},
      {"cat <<EOF | psql\nselect 1;\nEOF\nls", {{"cat"}, {"psql"}, {"ls"}}, {"|", ";"}},
      {"echo $(date +%s) `hostname`", {{"echo", "$(date +%s)", "`hostname`"}}, {}},
      {"diff <(sort a) <(sort b)", {{"diff", "<(sort a)", "<(sort b)"}}, {}},
      {"xargs", {{"echo"}}, {}},
      {"time", {{"time"}}, {}},
      {"# just a comment", {}, {}},
      {"for f in *.txt; do gzip \"$f\"; done", {{"gzip", "$f"}}, {}},
  };
  for (const ParseCase& c : cases) {
    SCOPED_TRACE(c.command);
    const ParsedCommand p = ParseCommand(c.command);
    ASSERT_EQ(p.stages.size(), c.argv.size()) << testing::PrintToString(Programs(p));
    for (size_t i = 0; i < c.argv.size(); ++i) EXPECT_EQ(p.stages[i].argv, c.argv[i]) << "stage " << i;
    EXPECT_EQ(p.connectors, c.connectors);
    EXPECT_FALSE(p.truncated);
  }
}

TEST(ShellParser, EnvWrappersRedirectionsAndTimeout) {
  const ParsedCommand p = ParseCommand("LANG=C sudo timeout 1.5m sort -S 1G in.txt > out.txt 2>>err.log < /dev/null &");
  ASSERT_EQ(p.stages.size(), 1u);
  const Stage& s = p.stages[0];
  ASSERT_EQ(s.env.size(), 1u);
  EXPECT_EQ(s.env[0].first, "LANG");
  EXPECT_EQ(s.env[0].second, "C");
  EXPECT_EQ(s.wrappers, (std::vector<std::string>{"sudo", "timeout"}));
  EXPECT_DOUBLE_EQ(s.timeout_seconds, 90);
  ASSERT_EQ(s.redirections.size(), 3u);
  EXPECT_EQ(s.redirections[0].op, ">");
  EXPECT_EQ(s.redirections[0].target, "out.txt");
  EXPECT_EQ(s.redirections[1].fd, 2);
  EXPECT_EQ(s.redirections[1].op, ">>");
  EXPECT_EQ(s.redirections[2].op, "<");
  EXPECT_TRUE(s.background);
}

TEST(ShellParser, PipedInAndSubshellDepth) {
  const ParsedCommand p = ParseCommand("bash -c 'zcat x.gz | grep foo' | wc -l");
  ASSERT_EQ(p.stages.size(), 3u);
  EXPECT_FALSE(p.stages[0].piped_in);
  EXPECT_TRUE(p.stages[1].piped_in);
  EXPECT_TRUE(p.stages[2].piped_in);
  EXPECT_EQ(p.stages[0].subshell_depth, 1);
  EXPECT_EQ(p.stages[2].subshell_depth, 0);
  EXPECT_EQ(p.stages[0].wrappers, (std::vector<std::string>{"bash -c"}));
}

TEST(ShellParser, UnbalancedInputIsParsedBestEffort) {
  for (const char* cmd : {"echo 'unterminated", "echo \"open", "(cd x && make", "echo $(date", "a |", "| b", "&&",
                          ";;;", ">", "2>&1", "sh -c", "bash -c 'bash -c \"bash -c \\\"bash -c x\\\"\"'"}) {
    SCOPED_TRACE(cmd);
    const ParsedCommand p = ParseCommand(cmd);
    EXPECT_LE(p.stages.size(), 4u);
  }
  EXPECT_TRUE(ParseCommand("echo 'x").unbalanced);
}

TEST(ShellParser, NestingIsCapped) {
  std::string cmd = "gzip f";
  for (int i = 0; i < 10; ++i) {
    std::string quoted = "'";
    for (char c : cmd) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd = "sh -c " + quoted + "'";
  }
  const ParsedCommand p = ParseCommand(cmd);
  EXPECT_TRUE(p.truncated);
}

// Bounded complexity by design (token, stage and token-length caps): a 1 MiB command completes and
// its output is capped. No timing assertion; a quadratic parser would make this test crawl.
TEST(ShellParser, OneMebibyteCommandIsBounded) {
  std::string big;
  big.reserve(1 << 20);
  while (big.size() < (1u << 20)) big += "cat 'a b' \"$(x)\" | sort -S 1M -j8 && ";
  const ParsedCommand p = ParseCommand(big);
  EXPECT_TRUE(p.truncated);
  EXPECT_LE(p.stages.size(), ParseLimits().max_stages);
  std::string one_word(1 << 20, 'x');
  const ParsedCommand q = ParseCommand(one_word);
  ASSERT_EQ(q.stages.size(), 1u);
  EXPECT_LE(q.stages[0].argv[0].size(), ParseLimits().max_token_bytes);
  std::string quotes(1 << 20, '\'');
  EXPECT_LE(ParseCommand(quotes).stages.size(), 1u);
  std::string parens(1 << 20, '(');
  EXPECT_TRUE(ParseCommand(parens).truncated);
}

TEST(ShellParser, Basename) {
  EXPECT_EQ(Basename("/usr/bin/python3"), "python3");
  EXPECT_EQ(Basename("gzip"), "gzip");
  EXPECT_EQ(Basename("dir/"), "dir");
  EXPECT_EQ(Basename(""), "");
}

}  // namespace
}  // namespace prescient::analysis
