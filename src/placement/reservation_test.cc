#include "placement/reservation.h"

#include <gtest/gtest.h>

#include "placement/testing.h"

namespace prescient::placement {
namespace {

using testing::At;

api::ResourceReservation Res(std::string name) {
  api::ResourceReservation r;
  r.metadata.name = std::move(name);
  r.metadata.ns = "demo";
  r.spec.resources.cpu_milli = 1000;
  r.spec.target.vm_name = "db-tools";
  r.status.phase = api::ReservationPhase::kBound;
  return r;
}

api::CommandRun RunOf(std::string command, std::optional<std::string> user = std::nullopt) {
  api::CommandRun run;
  run.metadata.name = "run";
  run.metadata.ns = "demo";
  run.spec.command = std::move(command);
  run.spec.user = std::move(user);
  run.spec.target.vm_name = "db-tools";
  return run;
}

TEST(MatchReservationTest, Table) {
  struct Case {
    const char* name;
    api::ResourceReservation r;
    api::CommandRun run;
    bool ok;
    const char* reason;
  };
  auto with = [](auto f) {
    api::ResourceReservation r = Res("r");
    f(r);
    return r;
  };
  const Case cases[] = {
      {"no selectors: anyone", Res("r"), RunOf("ls"), true, ""},
      {"user listed", with([](auto& r) { r.spec.users = {"alice", "bob"}; }), RunOf("ls", "bob"), true, ""},
      {"user not listed", with([](auto& r) { r.spec.users = {"alice"}; }), RunOf("ls", "mallory"), false,
       "ReservationUserMismatch"},
      {"run without user", with([](auto& r) { r.spec.users = {"alice"}; }), RunOf("ls"), false, "ReservationUserMismatch"},
      {"glob matches", with([](auto& r) { r.spec.command_pattern = "tar *"; }), RunOf("tar -cf - /usr/share/doc"), true, ""},
      {"glob is anchored", with([](auto& r) { r.spec.command_pattern = "tar *"; }), RunOf("gtar -cf x"), false,
       "ReservationCommandMismatch"},
      {"glob star crosses slashes", with([](auto& r) { r.spec.command_pattern = "*/backup/*"; }), RunOf("cp a /srv/backup/b"),
       true, ""},
      {"glob character class", with([](auto& r) { r.spec.command_pattern = "pg_dump[0-9] *"; }), RunOf("pg_dump1 db"), true, ""},
      {"regex matches whole command",
       with([](auto& r) { r.spec.command_pattern = "pg_(dump|restore) .*"; r.spec.command_pattern_syntax = api::PatternSyntax::kRegex; }),
       RunOf("pg_restore x"), true, ""},
      {"regex must match all of it",
       with([](auto& r) { r.spec.command_pattern = "pg_dump"; r.spec.command_pattern_syntax = api::PatternSyntax::kRegex; }),
       RunOf("pg_dump orders"), false, "ReservationCommandMismatch"},
      {"bad regex",
       with([](auto& r) { r.spec.command_pattern = "(x"; r.spec.command_pattern_syntax = api::PatternSyntax::kRegex; }),
       RunOf("x"), false, "ReservationInvalid"},
      {"args are joined for matching", with([](auto& r) { r.spec.command_pattern = "gzip -k *"; }),
       [] { api::CommandRun run = RunOf(""); run.spec.command.reset(); run.spec.args = {"gzip", "-k", "f.txt"}; return run; }(),
       true, ""},
      {"window not started", with([](auto& r) { r.spec.window = api::ReservationWindow{At(100), std::nullopt}; }), RunOf("ls"),
       false, "ReservationNotActive"},
      {"inside window", with([](auto& r) { r.spec.window = api::ReservationWindow{At(0), At(100)}; }), RunOf("ls"), true, ""},
      {"window ended (end exclusive)", with([](auto& r) { r.spec.window = api::ReservationWindow{std::nullopt, At(50)}; }),
       RunOf("ls"), false, "ReservationNotActive"},
      {"expired", with([](auto& r) { r.status.phase = api::ReservationPhase::kExpired; }), RunOf("ls"), false,
       "ReservationInactive"},
      {"other namespace", with([](auto& r) { r.metadata.ns = "prod"; }), RunOf("ls"), false, "ReservationNotFound"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ReservationMatch m = MatchReservation(c.r, c.run, At(50));
    EXPECT_EQ(m.ok, c.ok) << m.message;
    EXPECT_EQ(m.reason, c.reason);
    if (!c.ok) {
      EXPECT_NE(m.message.find("reservation r"), std::string::npos) << m.message;
    }
  }
}

TEST(ChooseReservationTest, Table) {
  api::ResourceReservation for_alice = Res("for-alice");
  for_alice.spec.users = {"alice"};
  for_alice.spec.priority = 10;
  api::ResourceReservation for_tar = Res("for-tar");
  for_tar.spec.command_pattern = "tar *";
  for_tar.spec.priority = 20;
  api::ResourceReservation open = Res("open");  // no selectors: only by name
  api::ResourceReservation pending = Res("pending");
  pending.spec.users = {"alice"};
  pending.spec.priority = 99;
  pending.status.phase = api::ReservationPhase::kPending;
  const std::vector<api::ResourceReservation> all = {for_alice, for_tar, open, pending};

  struct Case {
    const char* name;
    api::CommandRun run;
    std::string want;
    std::string error;
  };
  auto named = [](api::CommandRun run, std::string n) {
    run.spec.reservation_name = std::move(n);
    return run;
  };
  const Case cases[] = {
      {"no match", RunOf("ls", "bob"), "", ""},
      {"by user", RunOf("ls", "alice"), "demo/for-alice", ""},
      {"highest priority wins", RunOf("tar -cf x", "alice"), "demo/for-tar", ""},
      {"unselective reservations need a name", named(RunOf("ls", "bob"), "open"), "demo/open", ""},
      {"named and matching", named(RunOf("ls", "alice"), "for-alice"), "demo/for-alice", ""},
      {"named but not matching", named(RunOf("ls", "bob"), "for-alice"), "", "ReservationUserMismatch"},
      {"named but missing", named(RunOf("ls", "alice"), "ghost"), "", "ReservationNotFound"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ReservationChoice choice = ChooseReservation(c.run, all, At(0));
    EXPECT_EQ(choice.reservation, c.want);
    EXPECT_EQ(choice.error_reason, c.error);
    if (!c.error.empty()) {
      EXPECT_FALSE(choice.error_message.empty());
    }
  }
}

}  // namespace
}  // namespace prescient::placement
