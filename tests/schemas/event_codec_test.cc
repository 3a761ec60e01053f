// EncodeEvent/DecodeEvent: every kind round-trips exactly, and any bytes
// that are not an event come back as kDataLoss/CORRUPTION — never a crash,
// never an exception.
#include "schemas/event_codec.h"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"
#include "schemas/events.capnp.h"
#include "tests/schemas/event_printer.h"

namespace jobtrail {
namespace {

// Every field set, optionals included; text with non-ASCII and NUL bytes.
EventBody FullBody(EventKind kind) {
  const ItemCounts items{120, 500, 3};
  switch (kind) {
    case EventKind::kEnqueued: {
      Enqueued e{"form.fill",
                 "bots",
                 "team-a",
                 "captcha-9f2",
                 R"({"url":"https://x.example","ü":[1,2]})",
                 -5,
                 7,
                 1'700'000'123'456,
                 Labels{{"env", "prod"}, {"", ""}},
                 "idem-1",
                 "uniq-1"};
      e.callback_url = "https://hooks.example.com/jobs?\xC3\xBC=1";
      return e;
    }
    case EventKind::kStarted:
      return Started{4, "worker-\xE2\x9C\x93", 1'700'000'999'000};
    case EventKind::kProgressed:
      return Progressed{33.25, "page 2 of 6", "upload", items};
    case EventKind::kLogged:
      return Logged{LogLevel::kFatal, "disk full", R"({"free":0})",
                    Labels{{"gameServer", "gs-1"}, {"user", "u-7"}}};
    case EventKind::kErrored:
      return Errored{
          2,
          "TimeoutError",
          "no answer in 30s",
          "at a\nat b",
          "submit",
          {Artifact{"screenshot", "https://s3/x.png", "x.png", "image/png", ""},
           Artifact{"dump", "", "", "application/octet-stream",
                    std::string("\x00\x01\xff\x00", 4)}}};
    case EventKind::kRetried:
      return Retried{3, 1'700'000'060'000, 60'000};
    case EventKind::kCompleted:
      return Completed{R"({"ok":true})", items};
    case EventKind::kFailed:
      return Failed{"gave up after 3 attempts", "TimeoutError", "at a"};
    case EventKind::kCancelled:
      return Cancelled{"superseded", "ops@x.example"};
    case EventKind::kExpired:
      return Expired{"retention"};
    case EventKind::kWebhookAttempted:
      return WebhookAttempted{"7d1c9a52-0c1e-4f43-8f0e-3b2a1c0d9e8f",
                              "wh_0123456789abcdef",
                              12,
                              "failed",
                              3,
                              503,
                              "HTTP 503 from https://hooks.example.com",
                              1'250,
                              WebhookOutcome::kRetrying,
                              1'700'000'300'000};
  }
  return Logged{};
}

// Optionals unset, text and lists empty.
EventBody SparseBody(EventKind kind) {
  switch (kind) {
    case EventKind::kEnqueued: {
      Enqueued e;
      e.queue.clear();
      e.payload_json.clear();
      return e;
    }
    case EventKind::kStarted:
      return Started{};
    case EventKind::kProgressed:
      return Progressed{};
    case EventKind::kLogged:
      return Logged{};
    case EventKind::kErrored:
      return Errored{};
    case EventKind::kRetried:
      return Retried{};
    case EventKind::kCompleted:
      return Completed{};
    case EventKind::kFailed:
      return Failed{};
    case EventKind::kCancelled:
      return Cancelled{};
    case EventKind::kExpired:
      return Expired{};
    case EventKind::kWebhookAttempted:
      return WebhookAttempted{};
  }
  return Logged{};
}

RecordedEvent Envelope(EventBody body) {
  return RecordedEvent{"0b8e2c4a-6f1d-4c3e-9a57-2d1f0e9b7c11",
                       "job-42",
                       17,
                       123'456,
                       1'700'000'000'000,
                       "worker-1",
                       std::move(body)};
}

std::vector<EventKind> AllKinds() {
  std::vector<EventKind> kinds;
  for (int i = 0; i < kEventKindCount; ++i) {
    kinds.push_back(static_cast<EventKind>(i));
  }
  return kinds;
}

void ExpectRoundTrip(const RecordedEvent& event) {
  const std::string bytes = EncodeEvent(event);
  EXPECT_EQ(bytes.size() % 8, 0u);
  Result<RecordedEvent> decoded = DecodeEvent(bytes);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded.value(), event);
}

void ExpectCorruption(std::string_view bytes) {
  Result<RecordedEvent> r = RecordedEvent{};
  ASSERT_NO_THROW(r = DecodeEvent(bytes));
  ASSERT_FALSE(r) << "decoded: " << ::testing::PrintToString(r.value());
  EXPECT_EQ(r.error().code, Code::kDataLoss);
  EXPECT_EQ(r.error().reason, "CORRUPTION") << r.error().ToString();
}

// For bytes that might still happen to be a valid event.
void ExpectDecodesOrCorruption(std::string_view bytes) {
  Result<RecordedEvent> r = RecordedEvent{};
  ASSERT_NO_THROW(r = DecodeEvent(bytes));
  if (!r) {
    EXPECT_EQ(r.error().code, Code::kDataLoss);
    EXPECT_EQ(r.error().reason, "CORRUPTION") << r.error().ToString();
  }
}

std::string KindName(const ::testing::TestParamInfo<EventKind>& info) {
  return std::string(EventKindName(info.param));
}

class EventCodecKindTest : public ::testing::TestWithParam<EventKind> {};

TEST_P(EventCodecKindTest, FullEventRoundTrips) {
  ExpectRoundTrip(Envelope(FullBody(GetParam())));
}

TEST_P(EventCodecKindTest, SparseEventRoundTrips) {
  ExpectRoundTrip(RecordedEvent{"", "", 0, 0, 0, "", SparseBody(GetParam())});
  ExpectRoundTrip(Envelope(SparseBody(GetParam())));
}

TEST_P(EventCodecKindTest, EveryTruncationIsCorruption) {
  const std::string bytes = EncodeEvent(Envelope(FullBody(GetParam())));
  for (size_t len = 0; len < bytes.size(); ++len) {
    SCOPED_TRACE(len);
    ExpectCorruption(std::string_view(bytes).substr(0, len));
  }
}

TEST_P(EventCodecKindTest, FlippedBytesNeverCrash) {
  const std::string bytes = EncodeEvent(Envelope(FullBody(GetParam())));
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ mask);
      SCOPED_TRACE(::testing::Message() << "byte " << i << " ^ " << +mask);
      ExpectDecodesOrCorruption(damaged);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, EventCodecKindTest,
                         ::testing::ValuesIn(AllKinds()), KindName);

TEST(EventCodecTest, ExtremeValuesRoundTrip) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  RecordedEvent event = Envelope(Progressed{0.0, "", "", {kMin, kMax, 0}});
  event.version = std::numeric_limits<uint64_t>::max();
  event.position = std::numeric_limits<uint64_t>::max();
  event.timestamp = kMin;
  ExpectRoundTrip(event);
  event.body = Progressed{100.0, "", "", {}};
  ExpectRoundTrip(event);
  event.body =
      Progressed{std::numeric_limits<double>::denorm_min(), "", "", {}};
  ExpectRoundTrip(event);
  event.body = Retried{std::numeric_limits<int32_t>::min(), kMin, kMax};
  ExpectRoundTrip(event);
  event.body = Enqueued{"t",
                        "q",
                        "",
                        "",
                        "{}",
                        std::numeric_limits<int32_t>::max(),
                        std::numeric_limits<int32_t>::min(),
                        kMin,
                        {},
                        "",
                        ""};
  ExpectRoundTrip(event);
}

TEST(EventCodecTest, EveryLogLevelRoundTrips) {
  for (LogLevel level : {LogLevel::kTrace, LogLevel::kInfo, LogLevel::kWarn,
                         LogLevel::kError, LogLevel::kFatal}) {
    ExpectRoundTrip(Envelope(Logged{level, "m", "", {}}));
  }
}

TEST(EventCodecTest, TextWithNulBytesAndLargeValuesRoundTrip) {
  Enqueued e;
  e.type = std::string("a\0b", 3);
  e.payload_json = std::string(1 << 20, 'x');
  for (int i = 0; i < 1000; ++i) {
    e.labels.emplace_back(std::to_string(i), std::string(i % 7, 'v'));
  }
  ExpectRoundTrip(Envelope(e));
}

TEST(EventCodecTest, UnalignedInputDecodes) {
  const RecordedEvent event = Envelope(FullBody(EventKind::kErrored));
  const std::string bytes = EncodeEvent(event);
  for (size_t offset = 1; offset < 8; ++offset) {
    const std::string shifted = std::string(offset, '\0') + bytes;
    Result<RecordedEvent> decoded =
        DecodeEvent(std::string_view(shifted).substr(offset));
    ASSERT_TRUE(decoded) << decoded.error().ToString();
    EXPECT_EQ(decoded.value(), event);
  }
}

TEST(EventCodecTest, EmptyAndPartialWordsAreCorruption) {
  ExpectCorruption("");
  ExpectCorruption(std::string_view());
  for (size_t len : {1, 7, 9, 15, 17}) ExpectCorruption(std::string(len, 'a'));
  const std::string bytes = EncodeEvent(Envelope(FullBody(EventKind::kLogged)));
  ExpectCorruption(bytes + "x");
}

TEST(EventCodecTest, GarbageIsCorruption) {
  ExpectCorruption(std::string(8, '\xff'));
  ExpectCorruption(std::string(64, '\xff'));
  ExpectCorruption(std::string(8, '\0'));  // one segment of zero words
  // Whole words, so the reader itself has to refuse them.
  ExpectCorruption("this is not a cap'n proto message.......");
  ExpectCorruption(R"({"kind":"started","attempt":1,"workerId":"w-01"})");
}

TEST(EventCodecTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(20240601);  // fixed: failures reproduce
  for (int i = 0; i < 20'000; ++i) {
    const size_t words = rng() % 48;
    std::string bytes(words * 8, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // Half the time, a plausible one-segment header, so the reader gets
    // past the segment table into pointers and lists.
    if (words > 0 && i % 2 == 0) {
      const uint32_t header[2] = {0, static_cast<uint32_t>(words - 1)};
      bytes.replace(0, 8, reinterpret_cast<const char*>(header), 8);
    }
    SCOPED_TRACE(i);
    ExpectDecodesOrCorruption(bytes);
  }
}

std::string ToBytes(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()),
                     bytes.size());
}

TEST(EventCodecTest, UnknownEventKindIsCorruption) {
  // What a binary sees of an event kind added by a newer schema.
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  root.setJobId("job-1");
  root.initBody().initCancelled().setReason("r");
  const uint32_t offset = capnp::Schema::from<schema::Event::Body>()
                              .getProto()
                              .getStruct()
                              .getDiscriminantOffset();
  kj::ArrayPtr<kj::byte> data =
      capnp::AnyStruct::Builder(schema::Event::Builder(root)).getDataSection();
  ASSERT_LE(offset * 2 + 2, data.size());
  const uint16_t future_kind = 15;  // little-endian on the wire
  data[offset * 2] = static_cast<kj::byte>(future_kind & 0xff);
  data[offset * 2 + 1] = static_cast<kj::byte>(future_kind >> 8);
  ASSERT_EQ(static_cast<int>(root.getBody().which()), 15);
  ExpectCorruption(ToBytes(message));
}

TEST(EventCodecTest, UnknownLogLevelIsCorruption) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  root.initBody().initLogged().setLevel(static_cast<schema::LogLevel>(9));
  ExpectCorruption(ToBytes(message));
}

TEST(EventCodecTest, HandBuiltMessageDecodes) {
  // The decoder reads the schema, not just EncodeEvent's output.
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Event>();
  root.setEventId("e-1");
  root.setJobId("job-1");
  root.setStreamVersion(2);
  root.setTimestampMs(99);
  auto started = root.initBody().initStarted();
  started.setAttempt(1);
  started.setWorkerId("w");
  Result<RecordedEvent> decoded = DecodeEvent(ToBytes(message));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded.value(), (RecordedEvent{"e-1", "job-1", 2, 0, 99, "",
                                            Started{1, "w", std::nullopt}}));
}

}  // namespace
}  // namespace jobtrail
