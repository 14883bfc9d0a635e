#include <gtest/gtest.h>

#include "exec/procfs.h"

namespace prescient::exec {
namespace {

const char kTcp[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:4864 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 80123 1 0000 100 0 0 10 0\n"
    "   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 91234 1 0000 20 4 30 10 -1\n"
    "   2: 0F00020A:D2F0 5DB8D822:01BB 06 00000000:00000000 03:00000DE7 00000000     0        0 0 3 0000\n"
    "   3: garbage line\n";

TEST(ParseProcNetTcp, V4) {
  auto socks = ParseProcNetTcp(kTcp, false);
  ASSERT_EQ(socks.size(), 3u);
  EXPECT_EQ(socks[0].local, "127.0.0.1:18532");
  EXPECT_EQ(socks[0].remote, "0.0.0.0:0");
  EXPECT_EQ(socks[0].state, 10);
  EXPECT_EQ(socks[0].inode, 80123u);
  EXPECT_FALSE(IsConnected(socks[0]));  // listening
  EXPECT_EQ(socks[1].remote, "127.0.0.1:8080");
  EXPECT_EQ(socks[1].state, 1);
  EXPECT_TRUE(IsConnected(socks[1]));
  EXPECT_EQ(socks[2].local, "10.2.0.15:54000");
  EXPECT_EQ(socks[2].remote, "34.216.184.93:443");
  EXPECT_EQ(socks[2].inode, 0u);  // TIME_WAIT: no owner any more
}

TEST(ParseProcNetTcp, V6LoopbackAndMappedV4) {
  const char text[] =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000 100 0 0 10 0\n"
      "   1: 00000000000000000000000001000000:9C40 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0000 20 4 30 10 -1\n"
      "   2: 0000000000000000FFFF00000100007F:9C41 0000000000000000FFFF00000100007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0000 20 4 30 10 -1\n";
  auto socks = ParseProcNetTcp(text, true);
  ASSERT_EQ(socks.size(), 3u);
  EXPECT_EQ(socks[0].local, "[::1]:8080");
  EXPECT_FALSE(IsConnected(socks[0]));
  EXPECT_EQ(socks[1].remote, "[::1]:8080");
  EXPECT_TRUE(IsConnected(socks[1]));
  EXPECT_EQ(socks[2].remote, "127.0.0.1:80");
}

TEST(ParseProcNetTcp, V4TextIsNotV6) {
  EXPECT_TRUE(ParseProcNetTcp(kTcp, true).empty());
}

TEST(SocketInode, Table) {
  EXPECT_EQ(SocketInode("socket:[12345]"), 12345u);
  EXPECT_FALSE(SocketInode("pipe:[12345]").has_value());
  EXPECT_FALSE(SocketInode("/var/log/x").has_value());
  EXPECT_FALSE(SocketInode("socket:[]").has_value());
  EXPECT_FALSE(SocketInode("socket:[12a]").has_value());
  EXPECT_FALSE(SocketInode("socket:[1").has_value());
}

TEST(ParseNetDev, SplitsLoopbackFromExternal) {
  const char text[] =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo: 372483946   52967    0    0    0     0          0         0 372483946   52967    0    0    0     0       0          0\n"
      "  eth0:    1000      10    0    0    0     0          0         0      500       5    0    0    0     0       0          0\n"
      "  ifb0:       7       0    0    0    0     0          0         0        3       0    0    0    0     0       0          0\n";
  NetDevCounters c = ParseNetDev(text);
  EXPECT_EQ(c.loopback_bytes, 372483946u);
  EXPECT_EQ(c.rx_bytes, 1007u);
  EXPECT_EQ(c.tx_bytes, 503u);
}

TEST(ParseProcStatusMemory, RssAndHwm) {
  ProcStatusMemory m;
  ASSERT_TRUE(ParseProcStatusMemory("Name:\tpython3\nVmPeak:\t  300000 kB\nVmHWM:\t  210000 kB\nVmRSS:\t  200000 kB\n", &m));
  EXPECT_EQ(m.rss_bytes, 200000LL * 1024);
  EXPECT_EQ(m.hwm_bytes, 210000LL * 1024);
  ProcStatusMemory k;
  EXPECT_FALSE(ParseProcStatusMemory("Name:\tkthreadd\nState:\tS (sleeping)\n", &k));  // kernel thread
}

}  // namespace
}  // namespace prescient::exec
