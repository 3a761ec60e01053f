// Golden events: old events must stay readable forever (SPEC §2).
//
// tests/data/events/v1/<kind>.bin holds one event per kind, encoded by the
// v1 schema from GoldenV1() below. Every build decodes the checked-in files
// and compares them, field by field, with GoldenV1(); a schema or codec
// change that cannot read them fails here.
//
// To (re)generate the files, run this test with JOBTRAIL_WRITE_GOLDEN=1:
//   JOBTRAIL_WRITE_GOLDEN=1 ctest --test-dir <build> -R SchemaGolden
// It writes the kWritableVersion directory from the structs instead of
// comparing (then re-reads what it wrote). Older versions are never written:
// rewriting them with today's encoder would prove nothing. When the schema
// gains fields, add GoldenV2() with them set, a V2 test, and make "v2" the
// writable version; v1's files and GoldenV1() stay frozen.
// See tests/data/events/README.md.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "domain/job_event.h"
#include "schemas/event_codec.h"
#include "tests/schemas/event_printer.h"

namespace jobtrail {
namespace {

// FROZEN: these values are what the checked-in v1 files contain.
RecordedEvent GoldenV1(EventKind kind) {
  RecordedEvent e;
  e.event_id = "3f9c1e2a-7b4d-4c8e-9a10-5d6e7f809102";
  e.job_id = "job-golden-0001";
  e.version = 1 + static_cast<uint64_t>(kind);
  e.position = 1'000 + static_cast<uint64_t>(kind);
  e.timestamp = 1'717'200'000'000 + 1'000 * static_cast<Millis>(kind);
  e.actor = "golden-writer";
  const ItemCounts items{40, 100, 2};
  switch (kind) {
    case EventKind::kEnqueued:
      e.body = Enqueued{"captcha.solve",
                        "captcha",
                        "user-17",
                        "captcha-8d3f",
                        R"({"siteKey":"6Lc","url":"https://example.com/ü"})",
                        7,
                        5,
                        1'717'200'060'000,
                        Labels{{"env", "prod"}, {"region", "eu-west-1"}},
                        "idem-4c1a",
                        "uniq-captcha-8d3f"};
      break;
    case EventKind::kStarted:
      e.body = Started{1, "worker-a7", 1'717'200'301'000};
      break;
    case EventKind::kProgressed:
      e.body = Progressed{42.5, "processing page 3 of 7", "ocr", items};
      break;
    case EventKind::kLogged:
      e.body = Logged{LogLevel::kWarn, "game server slow to answer",
                      R"({"latencyMs":1840})",
                      Labels{{"gameServer", "gs-eu-3"}, {"user", "u-991"}}};
      break;
    case EventKind::kErrored:
      e.body = Errored{
          1,
          "TimeoutError",
          "Navigation timeout of 30000 ms exceeded",
          "TimeoutError: Navigation timeout\n    at page.goto (bot.js:41:9)",
          "submit_form",
          {Artifact{"screenshot", "https://cdn.example.com/shots/8d3f.png",
                    "shots/8d3f.png", "image/png", ""},
           Artifact{"page_source", "https://cdn.example.com/src/8d3f.html",
                    "src/8d3f.html", "text/html", ""},
           Artifact{"log", "", "", "application/octet-stream",
                    std::string("\x00\x01\x7f\x80\xfe\xff", 6)}}};
      break;
    case EventKind::kRetried:
      e.body = Retried{2, 1'717'200'360'000, 60'000};
      break;
    case EventKind::kCompleted:
      e.body = Completed{R"({"token":"03AGdBq2","pages":7})", items};
      break;
    case EventKind::kFailed:
      e.body = Failed{"all 5 attempts failed", "TimeoutError",
                      "TimeoutError: Navigation timeout\n    at page.goto"};
      break;
    case EventKind::kCancelled:
      e.body = Cancelled{"superseded by job-golden-0002", "ops@example.com"};
      break;
    case EventKind::kExpired:  // not in v1: see GoldenV2
      break;
    case EventKind::kWebhookAttempted:  // not in v1: see GoldenV3
      break;
  }
  return e;
}

// v2 added the expired event (and nothing else): v2/expired.bin. The v1
// kinds' files stay in v1/.
RecordedEvent GoldenV2(EventKind kind) {
  RecordedEvent e = GoldenV1(kind);
  if (kind == EventKind::kExpired) e.body = Expired{"retention"};
  return e;
}

// v3 added the webhook_attempted event and the enqueued event's
// callback_url: v3/webhook_attempted.bin, v3/enqueued.bin (with a
// callback_url). v1's enqueued.bin still decodes, without one.
RecordedEvent GoldenV3(EventKind kind) {
  RecordedEvent e = GoldenV2(kind);
  if (kind == EventKind::kEnqueued) {
    std::get<Enqueued>(e.body).callback_url = "https://hooks.example.com/jobtrail?team=ü";
  } else if (kind == EventKind::kWebhookAttempted) {
    e.actor = "system";
    e.body = WebhookAttempted{"5b0d8a6e-2f4c-5e1a-9c3b-7d6e5f4a3b21",
                              "wh_9f8e7d6c5b4a3928",
                              7,
                              "completed",
                              2,
                              502,
                              "HTTP 502",
                              10'000,
                              WebhookOutcome::kRetrying,
                              1'717'200'999'000};
  }
  return e;
}

// The newest schema version; the only one JOBTRAIL_WRITE_GOLDEN=1 writes.
constexpr std::string_view kWritableVersion = "v3";

std::filesystem::path GoldenPath(std::string_view version, EventKind kind) {
  return std::filesystem::path(JOBTRAIL_SOURCE_DIR) / "tests" / "data" /
         "events" / std::string(version) /
         (std::string(EventKindName(kind)) + ".bin");
}

bool WriteGolden() {
  const char* v = std::getenv("JOBTRAIL_WRITE_GOLDEN");
  return v != nullptr && std::string_view(v) == "1";
}

void ExpectSameEvent(const RecordedEvent& got, const RecordedEvent& want) {
  EXPECT_EQ(got.event_id, want.event_id);
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.position, want.position);
  EXPECT_EQ(got.timestamp, want.timestamp);
  EXPECT_EQ(got.actor, want.actor);
  ASSERT_EQ(KindOf(got.body), KindOf(want.body))
      << EventKindName(KindOf(got.body));
  EXPECT_EQ(got.body, want.body);  // printed field by field on failure
  EXPECT_EQ(got, want);
}

std::vector<EventKind> KindsOfV1() {
  std::vector<EventKind> kinds;
  for (int i = 0; i < kEventKindCount; ++i) {
    if (static_cast<EventKind>(i) != EventKind::kExpired &&
        static_cast<EventKind>(i) != EventKind::kWebhookAttempted) {
      kinds.push_back(static_cast<EventKind>(i));
    }
  }
  return kinds;
}

// Decodes the checked-in file of `version` for want's kind and compares it
// with `want` (writes it first when asked to, for the writable version).
void CheckGolden(std::string_view version, const RecordedEvent& want) {
  const std::filesystem::path path = GoldenPath(version, KindOf(want.body));
  if (WriteGolden() && version == kWritableVersion) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    ASSERT_FALSE(ec) << path.parent_path() << ": " << ec.message();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    const std::string bytes = EncodeEvent(want);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    ASSERT_TRUE(out.good()) << "cannot write " << path;
  }

  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.is_open())
      << path << " is missing; generate it with JOBTRAIL_WRITE_GOLDEN=1";
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  Result<RecordedEvent> got = DecodeEvent(bytes);
  ASSERT_TRUE(got) << path << ": " << got.error().ToString();
  ExpectSameEvent(got.value(), want);
}

class SchemaGoldenTest : public ::testing::TestWithParam<EventKind> {};

TEST_P(SchemaGoldenTest, V1EventDecodes) {
  const RecordedEvent want = GoldenV1(GetParam());
  ASSERT_EQ(KindOf(want.body), GetParam());
  CheckGolden("v1", want);
}

TEST(SchemaGoldenV2Test, ExpiredEventDecodes) {
  const RecordedEvent want = GoldenV2(EventKind::kExpired);
  ASSERT_EQ(KindOf(want.body), EventKind::kExpired);
  CheckGolden("v2", want);
}

TEST(SchemaGoldenV3Test, WebhookAttemptedEventDecodes) {
  const RecordedEvent want = GoldenV3(EventKind::kWebhookAttempted);
  ASSERT_EQ(KindOf(want.body), EventKind::kWebhookAttempted);
  CheckGolden("v3", want);
}

TEST(SchemaGoldenV3Test, EnqueuedEventWithCallbackUrlDecodes) {
  const RecordedEvent want = GoldenV3(EventKind::kEnqueued);
  ASSERT_FALSE(std::get<Enqueued>(want.body).callback_url.empty());
  CheckGolden("v3", want);
}

std::string KindName(const ::testing::TestParamInfo<EventKind>& info) {
  return std::string(EventKindName(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllKinds, SchemaGoldenTest,
                         ::testing::ValuesIn(KindsOfV1()), KindName);

}  // namespace
}  // namespace jobtrail
