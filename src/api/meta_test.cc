#include "api/meta.h"

#include <gtest/gtest.h>

namespace prescient::api {
namespace {

using std::chrono::seconds;

Condition Cond(const char* type, ConditionStatus s, const char* reason, const char* msg = "", int64_t gen = 1) {
  Condition c;
  c.type = type;
  c.status = s;
  c.reason = reason;
  c.message = msg;
  c.observed_generation = gen;
  return c;
}

TEST(SetConditionTest, NewConditionGetsNowAsTransitionTime) {
  std::vector<Condition> cs;
  Time t0(seconds(1000));
  EXPECT_TRUE(SetCondition(&cs, Cond("Allocated", ConditionStatus::kFalse, "Queued"), t0));
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].last_transition_time, t0);
}

TEST(SetConditionTest, TransitionTimeChangesOnlyOnStatusFlip) {
  struct Case {
    const char* name;
    Condition update;
    bool changed;
    bool transition_moves;
  };
  const Case cases[] = {
      {"identical", Cond("Allocated", ConditionStatus::kFalse, "Queued", "waiting"), false, false},
      {"new reason", Cond("Allocated", ConditionStatus::kFalse, "Scaling", "waiting"), true, false},
      {"new message", Cond("Allocated", ConditionStatus::kFalse, "Queued", "still waiting"), true, false},
      {"new generation", Cond("Allocated", ConditionStatus::kFalse, "Queued", "waiting", 2), true, false},
      {"flip to True", Cond("Allocated", ConditionStatus::kTrue, "Bound", "on vm"), true, true},
      {"flip to Unknown", Cond("Allocated", ConditionStatus::kUnknown, "Queued", "waiting"), true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Time t0(seconds(1000)), t1(seconds(2000));
    std::vector<Condition> cs;
    SetCondition(&cs, Cond("Allocated", ConditionStatus::kFalse, "Queued", "waiting"), t0);
    EXPECT_EQ(SetCondition(&cs, c.update, t1), c.changed);
    ASSERT_EQ(cs.size(), 1u);
    EXPECT_EQ(cs[0].last_transition_time, c.transition_moves ? t1 : t0);
    EXPECT_EQ(cs[0].reason, c.update.reason);
    EXPECT_EQ(cs[0].message, c.update.message);
    EXPECT_EQ(cs[0].observed_generation, c.update.observed_generation);
  }
}

TEST(SetConditionTest, KeepsOtherTypesAndRemoves) {
  std::vector<Condition> cs;
  Time t(seconds(5));
  SetCondition(&cs, Cond("Valid", ConditionStatus::kTrue, "Validated"), t);
  SetCondition(&cs, Cond("Allocated", ConditionStatus::kFalse, "Queued"), t);
  EXPECT_TRUE(IsConditionTrue(cs, "Valid"));
  EXPECT_FALSE(IsConditionTrue(cs, "Allocated"));
  EXPECT_FALSE(IsConditionTrue(cs, "Missing"));
  EXPECT_TRUE(RemoveCondition(&cs, "Valid"));
  EXPECT_FALSE(RemoveCondition(&cs, "Valid"));
  EXPECT_EQ(FindCondition(cs, "Valid"), nullptr);
  ASSERT_NE(FindCondition(cs, "Allocated"), nullptr);
}

TEST(LabelSelectorTest, Matches) {
  using Op = LabelSelectorRequirement::Operator;
  const std::map<std::string, std::string> labels = {{"app", "db"}, {"tier", "tools"}};
  struct Case {
    const char* name;
    LabelSelector sel;
    bool match;
  };
  const Case cases[] = {
      {"empty matches all", {}, true},
      {"matchLabels equal", {{{"app", "db"}}, {}}, true},
      {"matchLabels differ", {{{"app", "web"}}, {}}, false},
      {"matchLabels missing key", {{{"zone", "a"}}, {}}, false},
      {"In hit", {{}, {{"tier", Op::kIn, {"tools", "batch"}}}}, true},
      {"In miss", {{}, {{"tier", Op::kIn, {"batch"}}}}, false},
      {"In absent key", {{}, {{"zone", Op::kIn, {"a"}}}}, false},
      {"NotIn hit", {{}, {{"tier", Op::kNotIn, {"tools"}}}}, false},
      {"NotIn absent key", {{}, {{"zone", Op::kNotIn, {"a"}}}}, true},
      {"Exists", {{}, {{"app", Op::kExists, {}}}}, true},
      {"Exists absent", {{}, {{"zone", Op::kExists, {}}}}, false},
      {"DoesNotExist", {{}, {{"zone", Op::kDoesNotExist, {}}}}, true},
      {"DoesNotExist present", {{}, {{"app", Op::kDoesNotExist, {}}}}, false},
      {"all must hold", {{{"app", "db"}}, {{"tier", Op::kIn, {"batch"}}}}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.sel.Matches(labels), c.match);
  }
}

TEST(SummarizeTest, LimitsAndCounts) {
  FieldErrors errs = {{"a", "x"}, {"b", "y"}, {"c", "z"}};
  EXPECT_EQ(Summarize(errs, 2), "a: x; b: y; and 1 more");
  EXPECT_EQ(Summarize(errs), "a: x; b: y; c: z");
  EXPECT_EQ(Summarize({}), "");
}

}  // namespace
}  // namespace prescient::api
