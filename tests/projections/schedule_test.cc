// Schedules: fire at the right minutes (across DST), once per fire time,
// catch up after downtime as configured, and isRunning follows their runs.
#include "projections/job_json.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class ScheduleTest : public StoreTest {
 protected:
  ScheduleSpec Spec(const std::string& name, const std::string& cron,
                    const std::string& tz = "UTC", CatchUp catch_up = CatchUp::kOnce) {
    ScheduleSpec s;
    s.name = name;
    s.cron = cron;
    s.time_zone = tz;
    s.catch_up = catch_up;
    return s;
  }
  std::vector<std::string> RunTimesOf(const std::string& type) {
    ListQuery q;
    q.type = type;
    q.descending = false;
    q.limit = 1000;
    std::vector<std::string> times;
    const ListPage page = store_->List(q).value();
    for (const auto& json : page.items_json) {
      const auto at = json.find("\"created_at\":\"");
      times.push_back(json.substr(at + 14, 24));
    }
    return times;
  }
  // Moves the clock minute by minute, firing what is due.
  void RunFor(Millis minutes) {
    for (Millis m = 0; m < minutes; ++m) {
      clock_.Advance(60000);
      ASSERT_TRUE(store_->RunDueSchedules());
    }
  }
};

TEST_F(ScheduleTest, FiresEveryFiveMinutesAndHourly) {
  clock_.Set(*ParseTime("2024-01-15T10:00:30Z"));
  ASSERT_TRUE(store_->PutSchedule(Spec("check-expired", "*/5 * * * *")));
  ASSERT_TRUE(store_->PutSchedule(Spec("expire-servers", "0 * * * *")));
  RunFor(65);
  EXPECT_EQ(RunTimesOf("check-expired").size(), 13u);
  EXPECT_EQ(RunTimesOf("check-expired").front(), "2024-01-15T10:05:30.000Z");
  EXPECT_EQ(RunTimesOf("expire-servers"),
            std::vector<std::string>{"2024-01-15T11:00:30.000Z"});
}

TEST_F(ScheduleTest, DailyAtThreeInBerlinAcrossTheSpringDstChange) {
  // Europe/Berlin springs forward on 2024-03-31 at 02:00 -> 03:00.
  clock_.Set(*ParseTime("2024-03-29T12:00:00Z"));
  ASSERT_TRUE(store_->PutSchedule(Spec("cleanup", "0 3 * * *", "Europe/Berlin")));
  for (int day = 0; day < 4 * 24; ++day) {
    clock_.Advance(3600 * 1000);
    ASSERT_TRUE(store_->RunDueSchedules());
  }
  // 03:00 CET is 02:00Z; from 31 March 03:00 CEST is 01:00Z. The clock
  // moves in whole hours, so runs are recorded at the hour after firing.
  EXPECT_EQ(RunTimesOf("cleanup"),
            (std::vector<std::string>{"2024-03-30T02:00:00.000Z", "2024-03-31T01:00:00.000Z",
                                      "2024-04-01T01:00:00.000Z", "2024-04-02T01:00:00.000Z"}));
}

TEST_F(ScheduleTest, NextRunIsListedAndIsRunningFollowsTheRun) {
  clock_.Set(*ParseTime("2024-01-15T10:00:00Z"));
  ASSERT_TRUE(store_->PutSchedule(Spec("expire-servers", "0 * * * *")));
  auto listed = store_->ListSchedules().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(*listed[0].schedule.next_run_at, *ParseTime("2024-01-15T11:00:00Z"));
  EXPECT_FALSE(listed[0].running);

  auto run = store_->TriggerSchedule("expire-servers", "ops");
  ASSERT_TRUE(run);
  MustAppend(run.value().job_id, Started{});
  EXPECT_TRUE(store_->GetSchedule("expire-servers").value().running);
  MustAppend(run.value().job_id, Completed{});
  EXPECT_FALSE(store_->GetSchedule("expire-servers").value().running);
  EXPECT_EQ(store_->TriggerSchedule("nope", "ops").error().reason, "SCHEDULE_NOT_FOUND");
}

TEST_F(ScheduleTest, MissedRunsFireOnceOrAreSkippedAfterRestart) {
  clock_.Set(*ParseTime("2024-01-15T10:00:00Z"));
  ASSERT_TRUE(store_->PutSchedule(Spec("once", "*/10 * * * *", "UTC", CatchUp::kOnce)));
  ASSERT_TRUE(store_->PutSchedule(Spec("skip", "*/10 * * * *", "UTC", CatchUp::kSkip)));
  store_.reset();
  clock_.Advance(3600 * 1000);  // down for an hour: six runs missed each
  Reopen();
  ASSERT_TRUE(store_->RunDueSchedules());
  EXPECT_EQ(RunTimesOf("once").size(), 1u);
  EXPECT_EQ(RunTimesOf("skip").size(), 0u);
  ASSERT_TRUE(store_->RunDueSchedules());
  EXPECT_EQ(RunTimesOf("once").size(), 1u);  // no burst of the missed runs
  clock_.Advance(10 * 60000);
  ASSERT_TRUE(store_->RunDueSchedules());
  EXPECT_EQ(RunTimesOf("once").size(), 2u);
  EXPECT_EQ(RunTimesOf("skip").size(), 1u);
}

TEST_F(ScheduleTest, BadDefinitionsAreRejectedAndDeleteWorks) {
  EXPECT_EQ(store_->PutSchedule(Spec("x", "61 * * * *")).error().reason, "INVALID_INPUT");
  EXPECT_EQ(store_->PutSchedule(Spec("x", "* * * * *", "Mars/Olympus")).error().reason,
            "INVALID_INPUT");
  EXPECT_EQ(store_->PutSchedule(Spec("bad name!", "* * * * *")).error().reason, "INVALID_INPUT");
  ASSERT_TRUE(store_->PutSchedule(Spec("x", "@daily")));
  ASSERT_TRUE(store_->DeleteSchedule("x"));
  EXPECT_EQ(store_->DeleteSchedule("x").error().reason, "SCHEDULE_NOT_FOUND");
  Reopen();
  EXPECT_TRUE(store_->ListSchedules().value().empty());
}

}  // namespace
}  // namespace jobtrail::testing
