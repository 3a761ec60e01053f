// JobStore: writes through the domain, read-your-writes, conflicts,
// idempotency, history and time travel, restart.
#include <rapidjson/document.h>

#include <fstream>
#include <thread>

#include "projections/job_json.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

class JobStoreTest : public StoreTest {};

TEST_F(JobStoreTest, EnqueueIsVisibleImmediately) {
  const std::string id = Enqueue("email", "alice", "507f1f77bcf86cd799439011");
  auto doc = store_->Status(id);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc.value().version, 1u);
  EXPECT_EQ(doc.value().status, JobStatus::kPending);
  EXPECT_EQ(doc.value().owner, "alice");
  auto json = Parse(doc.value().json);
  EXPECT_STREQ(json["status"].GetString(), "pending");
  EXPECT_STREQ(json["id"].GetString(), id.c_str());
  EXPECT_EQ(json["attempts"].GetInt(), 0);
  EXPECT_EQ(json["retries_left"].GetInt(), 3);
  EXPECT_STREQ(json["created_at"].GetString(), "2024-01-15T10:30:00.000Z");
}

TEST_F(JobStoreTest, EveryAcknowledgedAppendIsInTheStatusView) {
  const std::string id = Enqueue();
  MustAppend(id, Started{0, "w1", kStart + 30000});
  for (int p = 10; p <= 90; p += 10) {
    clock_.Advance(1000);
    auto out = Append(id, Progressed{double(p), "working", "step", {}});
    ASSERT_TRUE(out);
    auto json = Parse(store_->StatusJson(id).value());
    EXPECT_EQ(json["progress"].GetDouble(), double(p));
    EXPECT_EQ(json["version"].GetUint64(), out.value().version);
  }
}

TEST_F(JobStoreTest, FullLifecycleWithTwoScreenshotsAndARetry) {
  const std::string id = WriteRetriedJob();
  auto json = Parse(store_->StatusJson(id).value());
  EXPECT_STREQ(json["status"].GetString(), "completed");
  EXPECT_EQ(json["attempts"].GetInt(), 3);
  EXPECT_EQ(json["retries_left"].GetInt(), 0);
  ASSERT_EQ(json["errors"].Size(), 2u);
  EXPECT_STREQ(json["errors"][1]["artifacts"][0]["url"].GetString(), "https://s3.example/shot2.png");
  EXPECT_STREQ(json["result"]["confirmation"].GetString(), "ABC123");
  EXPECT_TRUE(json["next_retry_at"].IsNull());

  auto history = store_->History(id);
  ASSERT_TRUE(history);
  ASSERT_EQ(history.value().size(), 9u);
  for (size_t i = 0; i < history.value().size(); ++i) {
    EXPECT_EQ(history.value()[i].version, i + 1);
  }
  auto as_of = store_->LoadJob(id, 3);  // after the first error
  ASSERT_TRUE(as_of);
  EXPECT_EQ(as_of.value().status, JobStatus::kRunning);
  EXPECT_EQ(as_of.value().errors.size(), 1u);
  EXPECT_EQ(store_->LoadJob(id, 10).error().reason, "VERSION_NOT_FOUND");
}

TEST_F(JobStoreTest, IllegalTransitionChangesNothing) {
  const std::string id = Enqueue();
  auto out = Append(id, Completed{});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(out.error().reason, "INVALID_TRANSITION");
  EXPECT_EQ(store_->Status(id).value().version, 1u);
  EXPECT_EQ(store_->History(id).value().size(), 1u);
}

TEST_F(JobStoreTest, ABatchIsAllOrNothing) {
  const std::string id = Enqueue();
  AppendRequest r;
  r.job_id = id;
  r.events = {Started{}, Progressed{50.0, "", "", {}}, Started{}};  // the third is illegal
  auto out = store_->Append(std::move(r));
  ASSERT_FALSE(out);
  EXPECT_EQ(store_->History(id).value().size(), 1u);
}

TEST_F(JobStoreTest, StaleExpectedVersionIsAConflict) {
  const std::string id = Enqueue();
  ASSERT_TRUE(Append(id, Started{}, 1));
  auto stale = Append(id, Progressed{10.0, "", "", {}}, 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Code::kAborted);
  EXPECT_EQ(stale.error().reason, "VERSION_CONFLICT");
  EXPECT_EQ(store_->Status(id).value().version, 2u);
}

TEST_F(JobStoreTest, ConcurrentConditionalAppendsExactlyOneWins) {
  const std::string id = Enqueue();
  MustAppend(id, Started{});
  constexpr int kWriters = 8;
  std::atomic<int> wins{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      auto out = Append(id, Progressed{double(i), "", "", {}}, 2);
      if (out) {
        ++wins;
      } else if (out.error().reason == "VERSION_CONFLICT") {
        ++conflicts;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), kWriters - 1);
  EXPECT_EQ(store_->Status(id).value().version, 3u);
}

TEST_F(JobStoreTest, UnconditionalConcurrentAppendsAllLand) {
  const std::string id = Enqueue();
  MustAppend(id, Started{});
  constexpr int kWriters = 8;
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&] {
      LogLevel level = LogLevel::kInfo;
      auto out = Append(id, Logged{level, "line", "", {}});
      EXPECT_TRUE(out) << out.error().ToString();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store_->Status(id).value().version, 2u + kWriters);
}

TEST_F(JobStoreTest, IdempotencyKeyReturnsTheOriginalJob) {
  EnqueueRequest r;
  r.spec.type = "pdf";
  r.spec.owner = "bob";
  r.spec.idempotency_key = "order-42";
  auto first = store_->Enqueue(r);
  auto second = store_->Enqueue(r);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(first.value().duplicate);
  EXPECT_TRUE(second.value().duplicate);
  EXPECT_EQ(first.value().job_id, second.value().job_id);
  EXPECT_EQ(store_->Progress().log_position, 1u);
  // Another owner's identical key is another job.
  r.spec.owner = "carol";
  auto other = store_->Enqueue(r);
  ASSERT_TRUE(other);
  EXPECT_NE(other.value().job_id, first.value().job_id);
}

TEST_F(JobStoreTest, ClientEventIdsMakeAppendsIdempotent) {
  const std::string id = Enqueue();
  AppendRequest r;
  r.job_id = id;
  r.events = {Started{}};
  r.event_ids = {"3b241101-e2bb-4255-8caf-4136c566a962"};
  auto first = store_->Append(r);
  ASSERT_TRUE(first) << first.error().ToString();
  auto again = store_->Append(r);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_TRUE(again.value().duplicate);
  EXPECT_EQ(again.value().version, 2u);
  EXPECT_EQ(store_->History(id).value().size(), 2u);
}

TEST_F(JobStoreTest, GivenJobIdThatExistsIsRejected) {
  EnqueueRequest r;
  r.spec.type = "t";
  r.job_id = "job-1";
  ASSERT_TRUE(store_->Enqueue(r));
  auto again = store_->Enqueue(r);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, "JOB_EXISTS");
  r.job_id = "bad id with spaces";
  EXPECT_EQ(store_->Enqueue(r).error().reason, "INVALID_INPUT");
}

TEST_F(JobStoreTest, UnknownJobIsNotFound) {
  EXPECT_EQ(store_->Status("nope").error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(store_->History("nope").error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(Append("nope", Started{}).error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(store_->Status("../../etc").error().reason, "JOB_NOT_FOUND");
}

TEST_F(JobStoreTest, FindsJobsByExternalRefNewestFirst) {
  Enqueue("a", "o", "ref-1");
  clock_.Advance(10);
  const std::string newer = Enqueue("a", "o", "ref-1");
  EXPECT_EQ(store_->FindByExternalRef("ref-1").value(), newer);
  EXPECT_FALSE(store_->FindByExternalRef("ref-2"));
}

TEST_F(JobStoreTest, RestartKeepsEverythingAndResumesFromCheckpoint) {
  const std::string id = Enqueue();
  MustAppend(id, Started{});
  const std::string before = store_->StatusJson(id).value();
  Reopen();
  EXPECT_EQ(store_->StatusJson(id).value(), before);
  EXPECT_TRUE(store_->Progress().ready);
  MustAppend(id, Completed{});
  EXPECT_EQ(store_->Status(id).value().status, JobStatus::kCompleted);
}

TEST_F(JobStoreTest, FeedReturnsEventsInGlobalOrder) {
  const std::string a = Enqueue();
  const std::string b = Enqueue();
  MustAppend(a, Started{});
  auto feed = store_->Feed(0, 10);
  ASSERT_TRUE(feed);
  ASSERT_EQ(feed.value().size(), 3u);
  EXPECT_EQ(feed.value()[0].job_id, a);
  EXPECT_EQ(feed.value()[1].job_id, b);
  EXPECT_EQ(feed.value()[2].position, 3u);
  EXPECT_EQ(store_->Feed(2, 10).value().size(), 1u);
}

TEST_F(JobStoreTest, ForeignDirectoryIsRefused) {
  const std::string foreign = MakeTempDir("jobtrail-foreign");
  std::ofstream(foreign + "/notes.txt") << "not a jobtrail store";
  JobStoreOptions options;
  options.data_dir = foreign;
  auto opened = JobStore::Open(options);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().reason, "NOT_A_DATA_DIR");
  std::filesystem::remove_all(foreign);
}

TEST_F(JobStoreTest, RetentionPerTypeHidesThenExpiresJobs) {
  retention_by_type_["email"] = 3'600'000;
  Reopen();
  const std::string email = Enqueue("email");
  const std::string pdf = Enqueue("pdf");
  clock_.Advance(3'600'000 - 1);
  ASSERT_TRUE(store_->Status(email));
  clock_.Advance(1);
  // Gone at once from every read, before any maintenance pass...
  EXPECT_EQ(store_->Status(email).error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(store_->LoadJob(email, std::nullopt).error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(store_->History(email).error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(Append(email, Started{}).error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(store_->List(ListQuery{.type = "email"}).value().total, 1u);
  // ...and from the read models once a pass has recorded the expiry.
  auto report = store_->RunMaintenance({});
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report.value().expired, 1u);
  EXPECT_EQ(store_->List(ListQuery{.type = "email"}).value().total, 0u);
  EXPECT_EQ(store_->RunMaintenance({}).value().expired, 0u);
  auto audit = store_->AuditHistory(email);
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit.value().size(), 2u);
  EXPECT_EQ(std::get<Expired>(audit.value().back().body).reason, "retention");
  // Other types are untouched; a restart keeps the expiry.
  EXPECT_TRUE(store_->Status(pdf));
  Reopen();
  EXPECT_EQ(store_->Status(email).error().reason, "JOB_NOT_FOUND");
  EXPECT_TRUE(store_->Status(pdf));
}

TEST_F(JobStoreTest, LogsComeFromTheReadModelFilteredByLevel) {
  const std::string id = Enqueue();
  MustAppend(id, Logged{LogLevel::kInfo, "opened the page", "", {}});
  MustAppend(id, Logged{LogLevel::kWarn, "slow answer", R"({"ms":900})", {{"user", "u1"}}});
  MustAppend(id, Started{});
  MustAppend(id, Logged{LogLevel::kError, "form rejected", "", {}});
  auto all = store_->Logs(id, LogLevel::kTrace);
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(all.value().version, 5u);
  ASSERT_EQ(all.value().lines_json.size(), 3u);
  const std::vector<LogLine> lines = LogLinesOf(store_->History(id).value());
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(all.value().lines_json[i], RenderLogLineJson(lines[i]));  // as the fold says
  }
  auto warn = store_->Logs(id, LogLevel::kWarn);
  ASSERT_TRUE(warn);
  ASSERT_EQ(warn.value().lines_json.size(), 2u);
  EXPECT_NE(warn.value().lines_json[0].find("slow answer"), std::string::npos);
  EXPECT_EQ(store_->Logs("no-such-job", LogLevel::kTrace).error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(store_->Logs("bad id", LogLevel::kTrace).error().reason, "JOB_NOT_FOUND");
}

}  // namespace
}  // namespace jobtrail::testing
