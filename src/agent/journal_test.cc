#include "agent/journal.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace prescient::agent {
namespace {

class FileJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/agent-journal-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

JournalEntry Entry(const std::string& uid, JournalState s) {
  JournalEntry e;
  e.uid = uid;
  e.ns = "default";
  e.name = "r-" + uid.substr(0, 4);
  e.state = s;
  e.agent_pid = 77;
  e.boot_id = "boot";
  return e;
}

TEST_F(FileJournalTest, SurvivesReopenWithEveryField) {
  {
    auto j = FileJournal::Open(dir_);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    JournalEntry e = Entry("aaaa-1", JournalState::kFinished);
    e.shim_pid = 1234;
    e.cgroup = "prescient/aaaa-1";
    e.started_at = "2026-11-28T07:00:00Z";
    e.applied = Allocation{1500, 1 << 30};
    e.applied->network_priority = "High";
    e.applied->io_weight = 300;
    e.applied->disk_write_bps = 10 << 20;
    RunResult r;
    r.reason = "OOMKilled";
    r.exit_code = 137;
    r.oom_killed = true;
    r.output_tail = "Killed\n";
    e.result = r;
    Usage u;
    u.memory_peak_bytes = 1 << 30;
    e.usage = u;
    ASSERT_TRUE((*j)->Put(e).ok());
    ASSERT_TRUE((*j)->Put(Entry("bbbb-2", JournalState::kClaiming)).ok());
    ASSERT_TRUE((*j)->Put(Entry("bbbb-2", JournalState::kRunning)).ok()) << "overwrite in place";
  }
  auto j = FileJournal::Open(dir_);
  ASSERT_TRUE(j.ok());
  ASSERT_EQ((*j)->All().size(), 2u);
  auto a = (*j)->Get("aaaa-1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->state, JournalState::kFinished);
  EXPECT_EQ(a->shim_pid, 1234);
  ASSERT_TRUE(a->applied);
  EXPECT_EQ(a->applied->cpu_milli, 1500);
  ASSERT_TRUE(a->result);
  EXPECT_EQ(a->result->reason, "OOMKilled");
  EXPECT_EQ(*a->result->exit_code, 137);
  ASSERT_TRUE(a->usage);
  EXPECT_EQ(a->usage->memory_peak_bytes, 1 << 30);
  EXPECT_EQ((*j)->Get("bbbb-2")->state, JournalState::kRunning);
  // No temp files left behind.
  for (auto& f : std::filesystem::directory_iterator(dir_ + "/runs"))
    EXPECT_EQ(f.path().extension(), ".json") << f.path();
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/runs/aaaa-1.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(FileJournalTest, RemoveAndCorruptEntries) {
  auto j = FileJournal::Open(dir_);
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->Put(Entry("cccc-3", JournalState::kReported)).ok());
  ASSERT_TRUE((*j)->Remove("cccc-3").ok());
  EXPECT_FALSE((*j)->Get("cccc-3"));
  std::ofstream(dir_ + "/runs/dddd-4.json") << "{not json";
  auto j2 = FileJournal::Open(dir_);
  ASSERT_TRUE(j2.ok());
  EXPECT_TRUE((*j2)->All().empty());
  ASSERT_EQ((*j2)->corrupt().size(), 1u);
  EXPECT_NE((*j2)->corrupt()[0].find("dddd-4.json"), std::string::npos);
}

TEST_F(FileJournalTest, RefusesPathTraversal) {
  auto j = FileJournal::Open(dir_);
  ASSERT_TRUE(j.ok());
  EXPECT_FALSE((*j)->Put(Entry("../../etc/passwd", JournalState::kClaiming)).ok());
  EXPECT_FALSE((*j)->Remove("../x").ok());
}

}  // namespace
}  // namespace prescient::agent
