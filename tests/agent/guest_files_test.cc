// hack/guest/cloud-init.yaml embeds a copy of hack/guest/prescient-agent.service: keep them equal.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

TEST(GuestFiles, CloudInitEmbedsTheUnitVerbatim) {
  // Tests run from the source root (prescient_test's WORKING_DIRECTORY).
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

}  // namespace
