// Server-Sent Events against a real server: a job's stream and the global
// feed, replay and resume by Last-Event-ID, filters, heartbeats on the
// manual clock, and shutdown.
#include <rapidjson/document.h>

#include <set>

#include "tests/http/live/live_fixture.h"

namespace jobtrail::testing {
namespace {

class EventStreamTest : public LiveTest {
 protected:
  std::string Url(const std::string& path) const { return base_ + path; }
  // The positions of every event of the log, in order (GET /v1/events).
  std::vector<uint64_t> FeedPositions(const std::string& query = "") {
    std::vector<uint64_t> out;
    uint64_t after = 0;
    for (;;) {
      HttpResult r = client_->Get("/v1/events?limit=1000&after=" + std::to_string(after) + query);
      EXPECT_EQ(r.status, 200) << r.body;
      auto doc = r.Json();
      for (const auto& e : doc["events"].GetArray()) out.push_back(e["position"].GetUint64());
      after = doc["next_after"].GetUint64();
      if (!doc["has_more"].GetBool()) return out;
    }
  }
  static rapidjson::Document Data(const SseEvent& e) {
    rapidjson::Document d;
    d.Parse(e.data.c_str());
    return d;
  }
};

bool CountIds(const StreamReader::Events& events, size_t n) { return EventIds(events).size() >= n; }

TEST_F(EventStreamTest, AJobStreamReplaysFollowsAndEndsAfterTheFinalEvent) {
  const std::string id = Enqueue();
  MustAppend(id, R"({"type":"started","data":{"worker_id":"w1"}})");
  StreamReader reader(Url("/v1/jobs/" + id + "/stream?after_version=0"), {});
  ASSERT_TRUE(reader.WaitUntil([](const auto& e) { return CountIds(e, 2); }));
  MustAppend(id, R"({"type":"progressed","data":{"percent":50}})");
  MustAppend(id, R"({"type":"completed","data":{"result":{"ok":true}}})");
  ASSERT_TRUE(reader.WaitFinished());
  const auto events = reader.events();
  EXPECT_EQ(EventIds(events), FeedPositions());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "end");
  EXPECT_EQ(Data(events.back())["reason"].GetString(), std::string("final"));
  // Each data line is the event as GET /v1/events renders it.
  int version = 0;
  for (const SseEvent& e : events) {
    if (e.id.empty()) continue;
    auto doc = Data(e);
    EXPECT_EQ(doc["position"].GetUint64(), std::stoull(e.id));
    EXPECT_EQ(doc["version"].GetInt(), ++version);
    EXPECT_EQ(doc["job_id"].GetString(), id);
  }
  EXPECT_EQ(reader.result().status, 200);
  EXPECT_EQ(reader.result().content_type.rfind("text/event-stream", 0), 0u);
}

TEST_F(EventStreamTest, WithoutAStartOnlyWhatComesNext) {
  const std::string id = Enqueue();
  MustAppend(id, R"({"type":"started","data":{"worker_id":"w1"}})");
  StreamReader reader(Url("/v1/jobs/" + id + "/stream"), {});
  ASSERT_TRUE(WaitForStreams(1));
  MustAppend(id, R"({"type":"logged","data":{"level":"INFO","message":"hello"}})");
  ASSERT_TRUE(reader.WaitUntil([](const auto& e) { return CountIds(e, 1); }));
  EXPECT_EQ(EventIds(reader.events()), std::vector<uint64_t>{3});
}

TEST_F(EventStreamTest, AClientKilledMidwayResumesWithLastEventIdExactlyOnce) {
  const std::string id = Enqueue();
  for (int i = 0; i < 6; ++i) {
    MustAppend(id, R"({"type":"logged","data":{"level":"INFO","message":"line"}})");
  }
  std::vector<uint64_t> first;
  {
    // Reads three events and goes away.
    StreamReader killed(Url("/v1/jobs/" + id + "/stream?after_version=0"), {},
                        [](const auto& e) { return CountIds(e, 3); });
    ASSERT_TRUE(killed.WaitFinished());
    EXPECT_TRUE(killed.result().aborted);
    first = EventIds(killed.events());
  }
  ASSERT_EQ(first.size(), 3u);
  ASSERT_TRUE(WaitForStreams(0));
  MustAppend(id, R"({"type":"cancelled","data":{"reason":"enough"}})");
  StreamReader resumed(Url("/v1/jobs/" + id + "/stream?after_version=0"),
                       {"Last-Event-ID: " + std::to_string(first.back())});
  ASSERT_TRUE(resumed.WaitFinished());
  std::vector<uint64_t> all = first;
  for (uint64_t id_seen : EventIds(resumed.events())) all.push_back(id_seen);
  EXPECT_EQ(all, FeedPositions());  // every event once, in position order
  // Reconnecting after the final event: 204, so an EventSource stops.
  HttpResult done = client_->Get("/v1/jobs/" + id + "/stream",
                                 {"Last-Event-ID: " + std::to_string(all.back())});
  EXPECT_EQ(done.status, 204);
  EXPECT_EQ(client_->Get("/v1/jobs/" + id + "/stream").status, 204);
}

TEST_F(EventStreamTest, TheFeedReplaysFiltersAndEndsAtItsLimit) {
  std::vector<std::string> a, b;
  for (int i = 0; i < 3; ++i) a.push_back(Enqueue(R"({"type":"email","queue":"qa"})"));
  for (int i = 0; i < 3; ++i) b.push_back(Enqueue(R"({"type":"sms","queue":"qb"})"));
  for (const auto& id : a) MustAppend(id, R"({"type":"started","data":{"worker_id":"w"}})");
  for (const auto& id : b) MustAppend(id, R"({"type":"started","data":{"worker_id":"w"}})");
  MustAppend(a[0], R"({"type":"completed","data":{}})");
  MustAppend(b[0], R"({"type":"completed","data":{}})");
  MustAppend(a[1], R"({"type":"failed","data":{"error_type":"E","reason":"m"}})");

  // queue=qa: qa's events only.
  StreamReader qa(Url("/v1/events/stream?after=0&queue=qa&limit=8"), {});
  ASSERT_TRUE(qa.WaitFinished());
  std::set<std::string> jobs;
  for (const SseEvent& e : qa.events()) {
    if (!e.id.empty()) jobs.insert(Data(e)["job_id"].GetString());
  }
  EXPECT_EQ(jobs, std::set<std::string>(a.begin(), a.end()));
  EXPECT_EQ(EventIds(qa.events()).size(), 8u);
  EXPECT_EQ(qa.events().back().event, "end");

  // status=completed,failed: the transitions into those states, in order.
  StreamReader ends(Url("/v1/events/stream?after=0&status=completed,failed&limit=3"), {});
  ASSERT_TRUE(ends.WaitFinished());
  std::vector<std::string> types;
  for (const SseEvent& e : ends.events()) {
    if (!e.id.empty()) types.push_back(Data(e)["type"].GetString());
  }
  EXPECT_EQ(types, (std::vector<std::string>{"completed", "completed", "failed"}));

  // type=sms: the job type.
  StreamReader sms(Url("/v1/events/stream?after=0&type=sms&limit=6"), {});
  ASSERT_TRUE(sms.WaitFinished());
  for (const SseEvent& e : sms.events()) {
    if (!e.id.empty()) EXPECT_TRUE(std::count(b.begin(), b.end(), Data(e)["job_id"].GetString()));
  }
}

TEST_F(EventStreamTest, TheFeedGoesLiveAfterItsReplayWithoutGapsOrRepeats) {
  for (int i = 0; i < 5; ++i) Enqueue();
  StreamReader reader(Url("/v1/events/stream?after=2"), {});
  ASSERT_TRUE(WaitForStreams(1));
  std::vector<std::string> more;
  for (int i = 0; i < 5; ++i) more.push_back(Enqueue());
  const std::vector<uint64_t> expected = [&] {
    std::vector<uint64_t> all = FeedPositions();
    return std::vector<uint64_t>(all.begin() + 2, all.end());
  }();
  ASSERT_TRUE(reader.WaitUntil([&](const auto& e) { return CountIds(e, expected.size()); }));
  EXPECT_EQ(EventIds(reader.events()), expected);
}

TEST_F(EventStreamTest, IdleStreamsGetHeartbeats) {
  StreamReader reader(Url("/v1/events/stream"), {});
  ASSERT_TRUE(WaitForStreams(1));
  auto heartbeats = [](const StreamReader::Events& events) {
    size_t n = 0;
    for (const SseEvent& e : events) n += e.comment && e.data.find("keep-alive") != std::string::npos;
    return n;
  };
  ASSERT_TRUE(reader.WaitUntil([](const auto& e) { return !e.empty(); }));  // the prelude
  EXPECT_EQ(heartbeats(reader.events()), 0u);
  Advance(live_options_.heartbeat_ms);
  ASSERT_TRUE(reader.WaitUntil([&](const auto& e) { return heartbeats(e) == 1; }));
  Advance(live_options_.heartbeat_ms);
  ASSERT_TRUE(reader.WaitUntil([&](const auto& e) { return heartbeats(e) == 2; }));
}

TEST_F(EventStreamTest, ShutdownEndsStreamsWithAMessageToReconnect) {
  const std::string id = Enqueue();
  StreamReader reader(Url("/v1/events/stream?after=0"), {});
  ASSERT_TRUE(reader.WaitUntil([](const auto& e) { return CountIds(e, 1); }));
  server_->Shutdown();
  ASSERT_TRUE(reader.WaitFinished());
  const auto events = reader.events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "dropped");
  EXPECT_EQ(Data(events.back())["code"].GetString(), std::string("SHUTTING_DOWN"));
}

TEST_F(EventStreamTest, BadStartsAreRefused) {
  const std::string id = Enqueue();
  HttpResult header = client_->Get("/v1/events/stream", {"Last-Event-ID: yesterday"});
  EXPECT_EQ(header.status, 400);
  EXPECT_EQ(header.ErrorCode(), "INVALID_HEADER");
  EXPECT_EQ(client_->Get("/v1/events/stream?after=999999").ErrorCode(), "INVALID_PARAMETER");
  EXPECT_EQ(client_->Get("/v1/events/stream?status=done").ErrorCode(), "INVALID_PARAMETER");
  EXPECT_EQ(client_->Get("/v1/events/stream?color=red").ErrorCode(), "INVALID_PARAMETER");
  EXPECT_EQ(client_->Get("/v1/jobs/" + id + "/stream?after_version=x").ErrorCode(),
            "INVALID_PARAMETER");
  EXPECT_EQ(client_->Get("/v1/jobs/00000000-0000-4000-8000-000000000000/stream").status, 404);
  EXPECT_EQ(client_->Get("/v1/jobs/not%20an%20id/stream").ErrorCode(), "INVALID_JOB_ID");
  EXPECT_EQ(hub().Stats().streams, 0u);
}

}  // namespace
}  // namespace jobtrail::testing
