#pragma once
// Helpers for the domain tests: build a job by applying real events.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"
#include "domain/job_status.h"
#include "domain/job_view.h"

namespace jobtrail {

// gtest finds these by ADL, so failures print names instead of numbers.
inline void PrintTo(JobStatus status, std::ostream* os) {
  *os << StatusName(status);
}
inline void PrintTo(EventKind kind, std::ostream* os) {
  *os << EventKindName(kind);
}
inline void PrintTo(LogLevel level, std::ostream* os) {
  *os << LogLevelName(level);
}
inline void PrintTo(Code code, std::ostream* os) { *os << CodeName(code); }

namespace testing_util {

// A job's stream under construction. Every Append builds the envelope the
// event log would (next version, a later global position) and applies it;
// a rejected event changes nothing, so the next Append reuses its version.
class JobStream {
 public:
  explicit JobStream(std::string job_id = "job-1")
      : job_id_(std::move(job_id)) {}

  RecordedEvent Next(EventBody body, Millis timestamp) const {
    RecordedEvent event;
    event.event_id = "ev-" + std::to_string(job_.version + 1);
    event.job_id = job_id_;
    event.version = job_.version + 1;
    // Other jobs' events interleave in the global log.
    event.position = job_.last_position + 10;
    event.timestamp = timestamp;
    event.actor = "test";
    event.body = std::move(body);
    return event;
  }

  Result<void> Append(EventBody body, Millis timestamp) {
    RecordedEvent event = Next(std::move(body), timestamp);
    BOOST_OUTCOME_TRYV(ApplyEvent(job_, event));
    events_.push_back(std::move(event));
    return Ok();
  }

  const JobView& job() const { return job_; }
  const std::vector<RecordedEvent>& events() const { return events_; }
  JobView& mutable_job() { return job_; }

 private:
  std::string job_id_;
  JobView job_;
  std::vector<RecordedEvent> events_;  // the ones Append accepted
};

// Versions 1..n, timestamps start, start + step, ...
inline std::vector<RecordedEvent> MakeStream(std::vector<EventBody> bodies,
                                             Millis start = 1000,
                                             Millis step = 1000) {
  std::vector<RecordedEvent> events;
  for (size_t i = 0; i < bodies.size(); ++i) {
    RecordedEvent event;
    event.event_id = "ev-" + std::to_string(i + 1);
    event.job_id = "job-1";
    event.version = i + 1;
    event.position = 10 * (i + 1);
    event.timestamp = start + static_cast<Millis>(i) * step;
    event.actor = "test";
    event.body = std::move(bodies[i]);
    events.push_back(std::move(event));
  }
  return events;
}

inline Enqueued MakeEnqueued(int32_t max_attempts = 3) {
  Enqueued e;
  e.type = "pdf.render";
  e.queue = "pdf";
  e.owner = "alice";
  e.external_ref = "captcha-42";
  e.payload_json = R"({"file":"a.pdf"})";
  e.max_attempts = max_attempts;
  return e;
}

inline Errored MakeErrored(std::string message = "timed out") {
  Errored e;
  e.error_type = "TimeoutError";
  e.message = std::move(message);
  e.stack = "at fill_form (bot.js:12)";
  e.stage = "submit";
  return e;
}

}  // namespace testing_util
}  // namespace jobtrail
