#include "common/startup.h"

#include <gtest/gtest.h>

#include <boost/program_options.hpp>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <string>
#include <vector>

#include "common/log.h"

namespace prescient {
namespace {

namespace po = boost::program_options;

struct Parsed {
  std::optional<int> exit_code;
  std::string out, err;
  std::string name;
  int count = 0;
};

Parsed Parse(std::vector<std::string> args, const CommandLineSpec& spec, bool require_name = false) {
  Parsed p;
  po::options_description desc("Flags");
  auto* name = po::value(&p.name);
  if (require_name) name->required();
  desc.add_options()("help,h", "show this help")("name", name, "a name")("count", po::value(&p.count), "a count");
  po::positional_options_description pos;
  pos.add("name", 1);
  CommandLineSpec s = spec;
  if (s.program.empty()) s.program = "prescient-test";
  s.positional = &pos;
  std::vector<char*> argv;
  args.insert(args.begin(), "prescient-test");
  for (auto& a : args) argv.push_back(a.data());
  po::variables_map vm;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  p.exit_code = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), desc, s, &vm);
  p.out = ::testing::internal::GetCapturedStdout();
  p.err = ::testing::internal::GetCapturedStderr();
  return p;
}

TEST(ParseCommandLine, ValuesHelpAndErrors) {
  struct Case {
    const char* what;
    std::vector<std::string> args;
    CommandLineSpec spec;
    bool require_name;
    std::optional<int> exit_code;
    const char* out;  // substring of stdout ("" = empty)
    const char* err;  // substring of stderr ("" = empty)
  };
  const Case cases[] = {
      {"flags and a positional", {"--count", "3", "x"}, {}, false, std::nullopt, "", ""},
      {"help", {"--help"}, {.usage = "usage: prescient-test NAME"}, false, 0, "usage: prescient-test NAME\n\nFlags", ""},
      {"help before a missing required option", {"-h"}, {}, true, 0, "--count", ""},
      {"missing required option", {}, {}, true, 2, "", "prescient-test: the option '--name' is required"},
      {"unknown flag lists the options", {"--nope"}, {}, false, 2, "", "--count arg"},
      {"bad value, brief", {"--count", "many"}, {.usage = "usage: u", .brief_errors = true}, false, 2, "",
       "usage: u\n(run with --help for all options)\n"},
  };
  for (const auto& c : cases) {
    Parsed p = Parse(c.args, c.spec, c.require_name);
    EXPECT_EQ(p.exit_code, c.exit_code) << c.what << "\nstdout: " << p.out << "\nstderr: " << p.err;
    for (auto [text, want] : {std::pair{p.out, c.out}, std::pair{p.err, c.err}}) {
      if (*want == '\0') {
        EXPECT_EQ(text, "") << c.what;
      } else {
        EXPECT_NE(text.find(want), std::string::npos) << c.what << ": " << text;
      }
    }
  }
  Parsed ok = Parse({"--count", "3", "x"}, {});
  EXPECT_EQ(ok.name, "x");
  EXPECT_EQ(ok.count, 3);
  Parsed brief = Parse({"--count", "many"}, {.brief_errors = true});
  EXPECT_EQ(brief.err.find("--name arg"), std::string::npos) << "brief errors do not list the options: " << brief.err;
}

TEST(SetLogLevelFromFlag, AcceptsLevelsAndNamesTheFlagOtherwise) {
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(SetLogLevelFromFlag("prescient-test", "--log-level", "warn"));
  EXPECT_EQ(log::GetLevel(), log::Level::kWarn);
  EXPECT_FALSE(SetLogLevelFromFlag("prescient-test", "--log-level", "loud"));
  EXPECT_EQ(log::GetLevel(), log::Level::kWarn) << "a bad value leaves the level alone";
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "prescient-test: --log-level loud is not debug, info, warn or error\n");
  log::SetLevel(log::Level::kInfo);
}

TEST(ServeMetrics, DisabledOrAnErrorNamingTheAddress) {
  auto registry = std::make_shared<prometheus::Registry>();
  for (const char* off : {"0", ""}) {
    auto e = ServeMetrics(off, registry);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(*e, nullptr) << off;
  }
  auto bad = ServeMetrics("no-such-host.invalid:x", registry);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cannot serve metrics on no-such-host.invalid:x"), std::string::npos)
      << bad.status().ToString();
}

}  // namespace
}  // namespace prescient
