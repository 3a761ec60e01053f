// The string names of the domain's enums are part of the public API and the
// export format: they must round-trip and never change.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "domain/job_event.h"
#include "domain/job_status.h"
#include "domain/job_view.h"
#include "domain/names.h"
#include "tests/domain/job_test_util.h"

namespace jobtrail {
namespace {

TEST(NamesTest, StatusNamesAreFixed) {
  EXPECT_EQ(StatusName(JobStatus::kNone), "none");
  EXPECT_EQ(StatusName(JobStatus::kPending), "pending");
  EXPECT_EQ(StatusName(JobStatus::kRunning), "running");
  EXPECT_EQ(StatusName(JobStatus::kRetrying), "retrying");
  EXPECT_EQ(StatusName(JobStatus::kCompleted), "completed");
  EXPECT_EQ(StatusName(JobStatus::kFailed), "failed");
  EXPECT_EQ(StatusName(JobStatus::kCancelled), "cancelled");
}

TEST(NamesTest, StatusRoundTrips) {
  for (JobStatus s : kAllStatuses) {
    EXPECT_EQ(ParseStatus(StatusName(s)), s) << StatusName(s);
  }
}

TEST(NamesTest, UnknownStatusDoesNotParse) {
  for (std::string_view name : {"", "done", "runnin", "running ", "queued"}) {
    EXPECT_EQ(ParseStatus(name), std::nullopt) << name;
  }
}

TEST(NamesTest, EventKindNamesAreFixed) {
  constexpr std::string_view kExpected[kEventKindCount] = {
      "enqueued", "started",   "progressed", "logged",   "errored",
      "retried",  "completed", "failed",     "cancelled", "expired",
      "webhook_attempted"};
  for (int i = 0; i < kEventKindCount; ++i) {
    EXPECT_EQ(EventKindName(static_cast<EventKind>(i)), kExpected[i]);
  }
}

TEST(NamesTest, EventKindRoundTrips) {
  for (int i = 0; i < kEventKindCount; ++i) {
    const auto kind = static_cast<EventKind>(i);
    EXPECT_EQ(ParseEventKind(EventKindName(kind)), kind) << EventKindName(kind);
  }
}

TEST(NamesTest, KindOfFollowsTheVariantOrder) {
  EXPECT_EQ(KindOf(Enqueued{}), EventKind::kEnqueued);
  EXPECT_EQ(KindOf(Started{}), EventKind::kStarted);
  EXPECT_EQ(KindOf(Progressed{}), EventKind::kProgressed);
  EXPECT_EQ(KindOf(Logged{}), EventKind::kLogged);
  EXPECT_EQ(KindOf(Errored{}), EventKind::kErrored);
  EXPECT_EQ(KindOf(Retried{}), EventKind::kRetried);
  EXPECT_EQ(KindOf(Completed{}), EventKind::kCompleted);
  EXPECT_EQ(KindOf(Failed{}), EventKind::kFailed);
  EXPECT_EQ(KindOf(Cancelled{}), EventKind::kCancelled);
  EXPECT_EQ(std::variant_size_v<EventBody>, size_t{kEventKindCount});
}

TEST(NamesTest, UnknownEventKindDoesNotParse) {
  for (std::string_view name : {"", "enqueue", "start", "canceled", "x"}) {
    EXPECT_EQ(ParseEventKind(name), std::nullopt) << name;
  }
}

TEST(NamesTest, LogLevelNamesRoundTrip) {
  const std::pair<LogLevel, std::string_view> kLevels[] = {
      {LogLevel::kTrace, "TRACE"},
      {LogLevel::kInfo, "INFO"},
      {LogLevel::kWarn, "WARN"},
      {LogLevel::kError, "ERROR"},
      {LogLevel::kFatal, "FATAL"}};
  for (const auto& [level, name] : kLevels) {
    EXPECT_EQ(LogLevelName(level), name);
    EXPECT_EQ(ParseLogLevel(name), level) << name;
  }
}

TEST(NamesTest, LogLevelParsingIgnoresCase) {
  EXPECT_EQ(ParseLogLevel("trace"), LogLevel::kTrace);
  EXPECT_EQ(ParseLogLevel("Info"), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("wArN"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("Fatal"), LogLevel::kFatal);
}

TEST(NamesTest, WarningIsWarn) {
  EXPECT_EQ(ParseLogLevel("WARNING"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("Warning"), LogLevel::kWarn);
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "WARN");  // the canonical name
}

TEST(NamesTest, UnknownLogLevelDoesNotParse) {
  for (std::string_view name :
       {"", "WARNINGS", "WARN ", "debug", "err", "INFORMATION"}) {
    EXPECT_EQ(ParseLogLevel(name), std::nullopt) << name;
  }
}

}  // namespace
}  // namespace jobtrail

namespace jobtrail {
namespace {

// Names become index key parts (domain/names.h): a control character in
// one would let its keys collide with another name's.
TEST(NamesTest, NamesWithControlCharactersAreRefused) {
  EXPECT_TRUE(IsValidName(""));
  EXPECT_TRUE(IsValidName("reliance-form"));
  EXPECT_TRUE(IsValidName("flickr.test.echo"));
  EXPECT_TRUE(IsValidName("Warteschlange für Formulare"));  // UTF-8 is fine
  EXPECT_TRUE(IsValidName(std::string(kMaxNameLength, 'q')));
  EXPECT_FALSE(IsValidName(std::string(kMaxNameLength + 1, 'q')));
  for (int c = 0; c < 0x20; ++c) {
    const std::string name = std::string("a") + char(c) + "b";
    EXPECT_FALSE(IsValidName(name)) << c;
  }
  EXPECT_FALSE(IsValidName(std::string("a\x7f", 2)));
  EXPECT_FALSE(IsValidName(std::string("\0", 1)));
}

TEST(NamesTest, AnEnqueueWithABadNameIsInvalidInputNamingTheField) {
  for (const char* field : {"type", "queue", "owner", "external_ref", "unique_key"}) {
    Enqueued spec;
    spec.type = "t";
    const std::string bad("x\0y", 3);
    const std::string f = field;
    if (f == "type") spec.type = bad;
    if (f == "queue") spec.queue = bad;
    if (f == "owner") spec.owner = bad;
    if (f == "external_ref") spec.external_ref = bad;
    if (f == "unique_key") spec.unique_key = bad;
    auto checked = CheckEnqueuedNames(spec);
    ASSERT_FALSE(checked) << field;
    EXPECT_EQ(checked.error().code, Code::kInvalidArgument);
    EXPECT_EQ(checked.error().reason, "INVALID_INPUT");
    EXPECT_EQ(checked.error().message.rfind(f + " ", 0), 0u) << checked.error().message;
    EXPECT_EQ(checked.error().message.find('\0'), std::string::npos);
    // The state machine applies the rule to every enqueue.
    EXPECT_FALSE(CheckTransition(JobView{}, EventBody{spec})) << field;
  }
  Enqueued fine;
  fine.type = "t";
  fine.queue = "forms";
  EXPECT_TRUE(CheckEnqueuedNames(fine));
  EXPECT_TRUE(CheckTransition(JobView{}, EventBody{fine}));
}

}  // namespace
}  // namespace jobtrail
