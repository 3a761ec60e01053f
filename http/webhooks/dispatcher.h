#pragma once
// The webhook dispatcher: follows the log, turns the events subscriptions
// and callback_urls ask for into deliveries, and delivers them on threads
// of its own (never the HTTP reactor's or the write pool's), each attempt
// recorded in the job's history as a webhook_attempted event.
//
// Pending deliveries are derived from the log, never kept only in memory:
// the dispatcher's state is a fold of the log from its checkpoint (trigger
// events create deliveries, webhook_attempted events advance or settle
// them), and the checkpoint (<data-dir>/webhooks-checkpoint) is the log
// position below which every delivery is settled. After a restart the fold
// runs again from there, so a pending delivery resumes with its next attempt
// number and at its recorded next_attempt_at; nothing is attempted until the
// fold has reached the log's head as of the start. A missing checkpoint
// file (the first start on a data directory) starts at the log's head:
// events from before webhooks existed there are never delivered.
//
// Delivery is at-least-once: a crash between an attempt and its record
// repeats the attempt; receivers dedupe on X-Jobtrail-Delivery. Attempts of
// different deliveries are not ordered.
//
// Backpressure: at most `max_pending` deliveries are held; beyond that the
// dispatcher stops reading the log (the log keeps them) until some settle.
//
// Thread-safe. Start() once, Stop() (or the destructor) before the store
// and the book go away.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "domain/error.h"
#include "domain/retry_policy.h"
#include "http/webhooks/delivery_plan.h"
#include "http/webhooks/feed_tap.h"
#include "http/webhooks/subscription_book.h"
#include "projections/job_store.h"

namespace jobtrail::webhooks {

struct DispatcherOptions {
  bool allow_private = false;
  // Attempts per delivery and the backoff between them (domain/retry_policy.h).
  RetryPolicy retry{10, RetryPolicy::Backoff::kExponential, 5000, 3600000, 0.2};
  Millis timeout_ms = 10000;  // per attempt, connecting included
  size_t threads = 4;         // delivery threads
  size_t max_pending = 10000;
  Millis poll_ms = 200;  // how often an idle dispatcher looks at the log
  std::string signing_key;     // callback secrets derive from it (signature.h)
  std::string checkpoint_path;  // <data-dir>/webhooks-checkpoint
  std::function<double()> random;  // uniform [0,1) for jitter; null: a PRNG
  // The store's observer (feed_tap.h; JobStoreOptions::observer), not
  // owned. Null: the dispatcher reads every event from the log itself.
  FeedTap* tap = nullptr;
};

struct DispatcherStats {
  uint64_t cursor = 0;       // last log position folded
  uint64_t checkpoint = 0;   // every delivery below it is settled
  bool caught_up = false;    // the fold has reached the head as of the start
  size_t pending = 0;        // deliveries not settled
  uint64_t attempts = 0;     // attempts made (and recorded) since the start
  uint64_t delivered = 0;
  uint64_t gave_up = 0;
  uint64_t dropped = 0;      // subscription deleted or job expired meanwhile
};

class Dispatcher {
 public:
  // Reads (or, the first time, writes) the checkpoint. `store` and `book`
  // must outlive the dispatcher. Errors: kInvalidArgument (options),
  // kDataLoss (a checkpoint file that does not parse), kInternal.
  static Result<std::unique_ptr<Dispatcher>> Create(JobStore& store, SubscriptionBook& book,
                                                    DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Start();  // the log reader and the delivery threads
  // Ends the threads (an attempt in flight is aborted and stays pending)
  // and saves the checkpoint. Idempotent.
  void Stop();
  // Wakes every thread now: the log has news, or (tests) the clock moved.
  void Poke();

  DispatcherStats Stats() const;
  // Waits until `done(Stats())` or the timeout; true when it holds (tests
  // and shutdown; never a substitute for the clock).
  bool WaitFor(const std::function<bool(const DispatcherStats&)>& done,
               std::chrono::milliseconds timeout) const;

 private:
  struct Delivery {
    std::string id;
    std::string job_id;
    std::string event_id;
    uint64_t position = 0;  // of the event it is about
    uint64_t event_version = 0;
    std::string event_type;
    std::string webhook_id;    // empty: the job's callback_url
    std::string callback_url;  // for callbacks
    std::string owner;         // the job's (callback secret)
    int attempts_made = 0;
    Millis due = 0;
    bool in_flight = false;
  };
  struct Due {
    Millis at;
    uint64_t seq;
    std::string id;
    bool operator>(const Due& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  // What one attempt did, for the fold.
  struct AttemptResult {
    bool drop = false;     // nothing to deliver any more
    bool aborted = false;  // shutdown: not recorded, still pending
    WebhookAttempted record;
  };

  Dispatcher(JobStore& store, SubscriptionBook& book, DispatcherOptions options);
  void FeedLoop();
  void DeliveryLoop();
  // Folds one log event into the pending deliveries (`facts` unknown when
  // the event came from the log: looked up when needed).
  void Fold(const TapEvent& event, bool facts_known);
  void FoldAttempt(const WebhookAttempted& attempt);
  void AddLocked(Delivery delivery);
  void EraseLocked(std::unordered_map<std::string, Delivery>::iterator it);
  AttemptResult Attempt(const Delivery& delivery, class HttpSender& sender);
  uint64_t CheckpointLocked() const;
  void SaveCheckpoint(bool force);
  double Random();

  JobStore& store_;
  SubscriptionBook& book_;
  DispatcherOptions options_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stop_ = false;                                    // GUARDED_BY(mu_)
  std::atomic<bool> stopping_{false};                   // for curl's abort
  bool started_ = false;                                 // GUARDED_BY(mu_)
  std::unordered_map<std::string, Delivery> pending_;    // GUARDED_BY(mu_)
  std::map<uint64_t, size_t> pending_positions_;         // GUARDED_BY(mu_)
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;  // GUARDED_BY(mu_)
  uint64_t seq_ = 0;                                     // GUARDED_BY(mu_)
  DispatcherStats stats_;                                // GUARDED_BY(mu_)
  uint64_t catch_up_to_ = 0;  // the log's head at Start
  uint64_t saved_checkpoint_ = 0;  // feed thread only
  std::chrono::steady_clock::time_point saved_at_{};

  // The feed thread's cache of the subscription list.
  uint64_t book_generation_ = ~uint64_t{0};
  std::vector<Subscription> subscriptions_;

  std::mutex random_mu_;
  std::mt19937_64 prng_{std::random_device{}()};

  std::thread feed_;
  std::vector<std::thread> workers_;
};

}  // namespace jobtrail::webhooks
