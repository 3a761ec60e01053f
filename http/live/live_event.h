#pragma once
// An event as the live module hands it to waiters and streams: the event,
// its JSON (RenderEventJson, rendered once however many streams carry it),
// and the facts of its job that ownership and the feed's filters need.
//
// A job's owner, queue and type never change after its enqueued event, so
// the facts are a pure function of the event: whether a stream shows an
// event is decided the same way live, on catch-up, and after a restart,
// which is what lets a client resume by Last-Event-ID exactly once.
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/job_event.h"
#include "domain/job_status.h"
#include "http/server/principal.h"
#include "projections/job_reads.h"
#include "projections/store_admin.h"

namespace jobtrail::http::live {

struct JobFacts {
  bool known = false;  // false: the job's first event could not be read
  std::string owner;
  std::string queue;
  std::string type;
};

struct LiveEvent {
  RecordedEvent event;
  std::string json;  // RenderEventJson(event)
  JobFacts facts;
};

// The facts of jobs, cached (bounded). Thread-safe.
class FactsCache {
 public:
  FactsCache(JobReads& store, StoreAdmin* admin, size_t capacity)
      : store_(store), admin_(admin), capacity_(capacity) {}
  // From an enqueued event itself; otherwise the cache, the job as the log
  // has it, or (for an expired job) its first event in the audit history.
  JobFacts For(const RecordedEvent& e);

 private:
  JobReads& store_;
  StoreAdmin* admin_;  // may be null
  const size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, JobFacts> facts_;  // GUARDED_BY(mu_)
};

std::shared_ptr<const LiveEvent> MakeLiveEvent(FactsCache& facts, RecordedEvent e);

// The status an event moves its job into (enqueued: pending, started:
// running, retried: retrying, completed, failed, cancelled); nullopt for the
// events that leave the status as it is (progress, logs, errors, expiry).
std::optional<JobStatus> StatusEntered(const EventBody& body);

// Events after which a job's stream ends: its final transitions, and expiry.
bool EndsJob(const EventBody& body);

// Which events of the global feed a stream carries (GET /v1/events/stream).
// Each list matches any of its values; an empty list matches everything.
struct EventFilter {
  std::vector<std::string> queues;
  std::vector<std::string> types;   // job types
  std::vector<std::string> owners;
  std::vector<JobStatus> statuses;  // StatusEntered
  bool Matches(const LiveEvent& e) const;
};

// May `p` see this event in the global feed? Admins every event; anyone
// else (readers, workers) the events of the jobs it owns, as GET /v1/events.
bool MayReadInFeed(const Principal& p, const JobFacts& facts);

}  // namespace jobtrail::http::live
