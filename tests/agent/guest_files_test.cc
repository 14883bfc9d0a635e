// The guest deployment files agree with each other and with the agent's package:
// hack/guest/cloud-init.yaml embeds a copy of hack/guest/prescient-agent.service, and both run the
// binary from the path hack/build-agent-deb.sh installs it to (a cloud-init unit pointing elsewhere
// overrides the packaged unit and the agent never starts).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

// The binary's path inside the package: the target of `install ... "$pkg/<path>/prescient-agent"`.
std::string PackagedBinary(const std::string& script) {
  std::smatch m;
  static const std::regex kInstall(R"(install -m 0755 "\$bin" "\$pkg(/[^"]*/prescient-agent)\")");
  return std::regex_search(script, m, kInstall) ? m[1].str() : "";
}

// The program of the unit's ExecStart= line.
std::string ExecStartProgram(const std::string& unit) {
  std::smatch m;
  static const std::regex kExec(R"((?:^|\n)ExecStart=([^ \n\\]+))");
  return std::regex_search(unit, m, kExec) ? m[1].str() : "";
}

// Tests run from the source root (prescient_test's WORKING_DIRECTORY).
TEST(GuestFiles, CloudInitEmbedsTheUnitVerbatim) {
  std::string unit = Read("hack/guest/prescient-agent.service");
  ASSERT_FALSE(unit.empty()) << "hack/guest/prescient-agent.service missing";
  YAML::Node cfg = YAML::LoadFile("hack/guest/cloud-init.yaml");
  bool found = false;
  for (const auto& f : cfg["write_files"]) {
    if (f["path"].as<std::string>() == "/etc/systemd/system/prescient-agent.service") {
      EXPECT_EQ(f["content"].as<std::string>(), unit) << "re-embed the unit into cloud-init.yaml";
      found = true;
    }
  }
  EXPECT_TRUE(found) << "cloud-init.yaml does not install the unit";
  EXPECT_NE(unit.find("KillMode=process"), std::string::npos) << "run shims must survive agent restarts";
}

TEST(GuestFiles, UnitAndCloudInitRunTheBinaryWhereThePackageInstallsIt) {
  std::string packaged = PackagedBinary(Read("hack/build-agent-deb.sh"));
  ASSERT_FALSE(packaged.empty()) << "hack/build-agent-deb.sh: no `install -m 0755 \"$bin\" \"$pkg/.../prescient-agent\"`";
  EXPECT_EQ(packaged, "/usr/bin/prescient-agent");

  std::string unit = Read("hack/guest/prescient-agent.service");
  EXPECT_EQ(ExecStartProgram(unit), packaged) << "the unit's ExecStart runs another path than the .deb installs";

  // cloud-init installs the .deb unless the binary is already there: it must test the same path.
  YAML::Node cfg = YAML::LoadFile("hack/guest/cloud-init.yaml");
  bool tests_binary = false;
  for (const auto& cmd : cfg["runcmd"]) {
    std::string text;
    if (cmd.IsSequence())
      for (const auto& part : cmd) text += part.as<std::string>() + " ";
    else
      text = cmd.as<std::string>();
    if (text.find("dpkg -i") != std::string::npos)
      tests_binary |= text.find("test -x " + packaged + " ") != std::string::npos;
  }
  EXPECT_TRUE(tests_binary) << "cloud-init's runcmd must install the .deb unless " << packaged << " exists";

  // No other location of the binary anywhere in the guest files.
  for (const char* f : {"hack/guest/prescient-agent.service", "hack/guest/cloud-init.yaml", "hack/guest/README.md"}) {
    std::string text = Read(f);
    std::regex other(R"((/[a-z/]*/)prescient-agent\b)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), other); it != std::sregex_iterator(); ++it) {
      std::string path = (*it)[0].str();
      if (path.rfind("/usr/", 0) == 0 && path.find("/bin/") != std::string::npos) {
        EXPECT_EQ(path, packaged) << f << " names the binary at another path";
      }
    }
  }
}

}  // namespace
