#pragma once
// LiveHub: the one place that follows the log for the live module, and the
// registry of everything waiting on it.
//
// One follower thread waits on the store's projection progress
// (JobStore::AwaitProjected: the projection thread, itself a subscription
// to the log, notifies it after each batch), reads the new events once
// (JobStore::Feed), renders each once, and hands them out in position order
// under the hub's lock:
//   - a parked long-poll of the event's job whose version is now passed is
//     unparked and answered on the live pool;
//   - every event stream of that job, and every stream of the global feed,
//     is offered the event (a stream queues bytes or remembers the event;
//     it never blocks the hub).
// Waking on projection (not on the commit) is what makes a woken long-poll
// read the new document: once AwaitProjected returned P, reads show P.
//
// Nothing waits on a thread: a long-poll is an entry in a map and a timer
// entry; a stream an entry and a heartbeat timer. 10,000 idle long-polls
// cost no CPU beyond the follower's wake-ups (none without events).
//
// Thread-safe. Lock order: the hub's lock, then a stream's or a waiter's.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/live/live_event.h"
#include "http/live/live_options.h"
#include "http/live/timers.h"
#include "http/server/work_pool.h"
#include "projections/job_reads.h"
#include "projections/store_admin.h"

namespace jobtrail::http::live {

class PollWaiter;
class EventStream;

struct LiveStats {
  size_t waiters = 0;      // long-polls parked now
  size_t streams = 0;      // event streams open now
  uint64_t head = 0;       // the last position handed out
  uint64_t answered = 0;   // long-polls answered after waiting
  uint64_t dropped = 0;    // streams dropped for reading too slowly
  size_t timers = 0;       // timer entries pending
};

class LiveHub : public std::enable_shared_from_this<LiveHub> {
 public:
  // `admin` (may be null) gives the audit trail of jobs past retention.
  LiveHub(JobReads& store, StoreAdmin* admin, LiveOptions options);
  ~LiveHub();
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // Starts following from the projected position, and the timer thread.
  void Start();
  // The server is shutting down: every long-poll is answered as at its
  // deadline, every stream ends with a "dropped" message (clients resume
  // from their last id elsewhere or later), the threads stop. Later parks
  // and streams are refused. Idempotent.
  void Drain();
  // Fires the timers due by an injected clock (LiveOptions::clock).
  void Tick() { timers_.Tick(); }
  LiveStats Stats() const;

  JobReads& store() { return store_; }
  const LiveOptions& options() const { return options_; }
  Timers& timers() { return timers_; }
  FactsCache& facts() { return facts_; }
  Millis Now() const { return timers_.Now(); }
  // Runs `task` on the live pool (in the caller once the pool is stopped).
  void Submit(std::function<void()> task);

  // False when draining or at max_waiters. Idempotent.
  bool Park(const std::shared_ptr<PollWaiter>& waiter);
  void Unpark(const PollWaiter* waiter);  // idempotent
  // False when draining or at max_streams.
  bool AddStream(const std::shared_ptr<EventStream>& stream);
  void RemoveStream(const EventStream* stream);  // idempotent
  bool AcceptingStreams() const;
  // Runs `fn` while no batch is being handed out: a stream switches from
  // reading the store to taking the hub's events inside it.
  void Exclusive(const std::function<void()>& fn);

  void CountAnswered() { answered_.fetch_add(1); }
  void CountDropped() { dropped_.fetch_add(1); }

 private:
  void Follow();
  // With nobody parked or streaming, moves the hub's head to `projected`
  // without reading those events (true); else false.
  bool PassUnheard(uint64_t projected);
  void Dispatch(const std::vector<std::shared_ptr<const LiveEvent>>& batch);

  JobReads& store_;
  const LiveOptions options_;
  Timers timers_;
  FactsCache facts_;
  std::unique_ptr<WorkPool> pool_;

  mutable std::mutex mu_;
  std::unordered_map<std::string,
                     std::unordered_map<const PollWaiter*, std::shared_ptr<PollWaiter>>>
      waiters_;                 // GUARDED_BY(mu_); by job id
  size_t waiter_count_ = 0;     // GUARDED_BY(mu_)
  std::unordered_multimap<std::string, std::shared_ptr<EventStream>>
      job_streams_;             // GUARDED_BY(mu_); by job id
  std::unordered_map<const EventStream*, std::shared_ptr<EventStream>>
      feed_streams_;            // GUARDED_BY(mu_)
  uint64_t head_ = 0;           // GUARDED_BY(mu_)
  bool draining_ = false;       // GUARDED_BY(mu_)

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::atomic<bool> stop_{false};
  std::thread follower_;
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace jobtrail::http::live
