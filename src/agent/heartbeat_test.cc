#include "agent/heartbeat.h"

#include <gtest/gtest.h>

#include "agent/fake_env.h"

namespace prescient::agent {
namespace {

using nlohmann::json;

json Vmi(json topo, const std::string& mem) {
  return {{"apiVersion", "kubevirt.io/v1"},
          {"kind", "VirtualMachineInstance"},
          {"metadata", {{"name", "vm-a"}, {"namespace", "default"}}},
          {"status", {{"currentCPUTopology", topo}, {"memory", {{"guestCurrent", mem}}}}}};
}

TEST(GuestCapacityFromVmi, Table) {
  auto r = GuestCapacityFromVmi(Vmi({{"sockets", 2}, {"cores", 2}, {"threads", 1}}, "4Gi"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cpu_milli, 4000);
  EXPECT_EQ(r->memory_bytes, 4LL << 30);
  r = GuestCapacityFromVmi(Vmi({{"sockets", 3}}, "1536Mi"));
  ASSERT_TRUE(r.ok()) << "omitted cores/threads count as 1";
  EXPECT_EQ(r->cpu_milli, 3000);
  EXPECT_FALSE(GuestCapacityFromVmi(Vmi({{"sockets", 0}}, "1Gi")).ok());
  EXPECT_FALSE(GuestCapacityFromVmi(Vmi({{"sockets", 1}}, "lots")).ok());
  json no_status = Vmi({{"sockets", 1}}, "1Gi");
  no_status.erase("status");
  auto e = GuestCapacityFromVmi(no_status);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("currentCPUTopology"), std::string::npos);
}

TEST(GuestSizer, AppliesHotplugOnce) {
  testing::FakeRunApi api;
  testing::FakeExecEnv exec;
  api.PutVmi(Vmi({{"sockets", 1}, {"cores", 1}}, "1Gi"));
  GuestSizer sizer("default", "vm-a", &api, &exec);
  ASSERT_TRUE(sizer.Sync().ok());
  EXPECT_EQ(exec.guest_capacity()->cpu_milli, 1000);
  api.PutVmi(Vmi({{"sockets", 2}, {"cores", 1}}, "2Gi"));  // hotplug
  ASSERT_TRUE(sizer.Sync().ok());
  EXPECT_EQ(exec.guest_capacity()->cpu_milli, 2000);
  EXPECT_EQ(exec.guest_capacity()->memory_bytes, 2LL << 30);
}

TEST(Heartbeat, CreatesThenRenews) {
  testing::FakeRunApi api;
  FakeClock clock;
  Heartbeat hb("default", "vm-a", &api, &clock);
  ASSERT_TRUE(hb.Renew().ok());
  auto lease = api.GetLease("default", "prescient-agent-vm-a");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "vm-a");
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 30);
  std::string first = (*lease)["spec"]["renewTime"];
  clock.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(hb.Renew().ok());
  lease = api.GetLease("default", "prescient-agent-vm-a");
  EXPECT_NE((*lease)["spec"]["renewTime"], first);
  EXPECT_EQ((*lease)["spec"]["acquireTime"], first);
}

}  // namespace
}  // namespace prescient::agent
