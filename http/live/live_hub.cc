#include "http/live/live_hub.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "http/live/event_stream.h"
#include "http/live/long_poll.h"

namespace jobtrail::http::live {
namespace {

// How long the follower waits for progress before looking at stop_ again
// (bounds how long Drain takes; 10 wake-ups a second cost nothing).
constexpr auto kFollowPoll = std::chrono::milliseconds(100);
// Events read and handed out in one go.
constexpr uint64_t kBatch = 256;
// Facts of this many jobs are remembered.
constexpr size_t kFactsCapacity = 50'000;
// How long a shutdown waits for the last answers to reach the sockets.
constexpr auto kFlushOnDrain = std::chrono::seconds(2);
// The live pool's queue: long-polls woken at once and replays.
constexpr size_t kMaxQueued = size_t{1} << 20;

}  // namespace

Result<void> CheckLiveOptions(const LiveOptions& o) {
  if (o.max_wait_ms < 0 || o.max_wait_ms > kMaxWaitCeilingMs) {
    return InvalidArgument("the long-poll maximum must be 0..60000 ms");
  }
  if (o.heartbeat_ms < 1) return InvalidArgument("the heartbeat interval must be at least 1 ms");
  if (o.max_buffered_bytes < 1024) {
    return InvalidArgument("a stream's buffer must be at least 1024 bytes");
  }
  if (o.drop_grace_ms < 0) return InvalidArgument("the drop grace must not be negative");
  if (o.threads < 1 || o.threads > 64) return InvalidArgument("live threads must be 1..64");
  return Ok();
}

LiveHub::LiveHub(JobReads& store, StoreAdmin* admin, LiveOptions options)
    : store_(store),
      options_(options),
      timers_(options.clock),
      facts_(store, admin, kFactsCapacity),
      pool_(std::make_unique<WorkPool>(options.threads, kMaxQueued)) {}

LiveHub::~LiveHub() { Drain(); }

void LiveHub::Start() {
  {
    std::lock_guard lock(mu_);
    // Events up to here are history: streams read them from the store.
    head_ = store_.Progress().projected_position;
  }
  timers_.Start();
  follower_ = std::thread([this] { Follow(); });
}

void LiveHub::Drain() {
  std::vector<std::shared_ptr<PollWaiter>> waiters;
  std::vector<std::shared_ptr<EventStream>> streams;
  {
    std::lock_guard lock(mu_);
    if (draining_) return;
    draining_ = true;
    for (auto& [job, parked] : waiters_) {
      for (auto& [key, waiter] : parked) waiters.push_back(waiter);
    }
    for (auto& [job, stream] : job_streams_) streams.push_back(stream);
    for (auto& [key, stream] : feed_streams_) streams.push_back(stream);
    waiters_.clear();
    job_streams_.clear();
    feed_streams_.clear();
    waiter_count_ = 0;
  }
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (follower_.joinable()) follower_.join();
  for (auto& waiter : waiters) waiter->Expire();
  for (auto& stream : streams) stream->Shutdown();
  pool_->Stop();  // runs what is queued: woken long-polls answer, replays see the end
  timers_.Stop();
  // The server closes every connection next: give the reactor threads a
  // moment to put the last answers on the wire (bounded: a client that
  // reads nothing does not hold the shutdown).
  const auto give_up = std::chrono::steady_clock::now() + kFlushOnDrain;
  auto flushed = [](const auto& items) {
    return std::all_of(items.begin(), items.end(),
                       [](const auto& item) { return item->channel()->Flushed(); });
  };
  while (!(flushed(waiters) && flushed(streams)) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

LiveStats LiveHub::Stats() const {
  LiveStats s;
  {
    std::lock_guard lock(mu_);
    s.waiters = waiter_count_;
    s.streams = job_streams_.size() + feed_streams_.size();
    s.head = head_;
  }
  s.answered = answered_.load();
  s.dropped = dropped_.load();
  s.timers = timers_.pending();
  return s;
}

void LiveHub::Submit(std::function<void()> task) {
  if (!pool_->Submit(task)) task();
}

bool LiveHub::Park(const std::shared_ptr<PollWaiter>& waiter) {
  std::lock_guard lock(mu_);
  if (draining_) return false;
  auto& parked = waiters_[waiter->job_id()];
  if (parked.count(waiter.get()) > 0) return true;
  if (waiter_count_ >= options_.max_waiters) {
    if (parked.empty()) waiters_.erase(waiter->job_id());
    return false;
  }
  parked.emplace(waiter.get(), waiter);
  ++waiter_count_;
  return true;
}

void LiveHub::Unpark(const PollWaiter* waiter) {
  std::lock_guard lock(mu_);
  auto it = waiters_.find(waiter->job_id());
  if (it == waiters_.end()) return;
  if (it->second.erase(waiter) > 0) --waiter_count_;
  if (it->second.empty()) waiters_.erase(it);
}

bool LiveHub::AcceptingStreams() const {
  std::lock_guard lock(mu_);
  return !draining_ && job_streams_.size() + feed_streams_.size() < options_.max_streams;
}

bool LiveHub::AddStream(const std::shared_ptr<EventStream>& stream) {
  std::lock_guard lock(mu_);
  if (draining_ || job_streams_.size() + feed_streams_.size() >= options_.max_streams) {
    return false;
  }
  if (stream->job_id().empty()) {
    feed_streams_.emplace(stream.get(), stream);
  } else {
    job_streams_.emplace(stream->job_id(), stream);
  }
  return true;
}

void LiveHub::RemoveStream(const EventStream* stream) {
  std::lock_guard lock(mu_);
  if (stream->job_id().empty()) {
    feed_streams_.erase(stream);
    return;
  }
  auto [begin, end] = job_streams_.equal_range(stream->job_id());
  for (auto it = begin; it != end; ++it) {
    if (it->second.get() == stream) {
      job_streams_.erase(it);
      return;
    }
  }
}

void LiveHub::Exclusive(const std::function<void()>& fn) {
  std::lock_guard lock(mu_);
  fn();
}

void LiveHub::Follow() {
  uint64_t head = 0;
  {
    std::lock_guard lock(mu_);
    head = head_;
  }
  while (!stop_.load()) {
    const uint64_t projected = store_.AwaitProjected(head, kFollowPoll);
    if (head < projected && PassUnheard(projected)) {
      head = projected;
      continue;
    }
    while (head < projected && !stop_.load()) {
      auto events = store_.Feed(head, std::min<uint64_t>(kBatch, projected - head));
      if (!events || events.value().empty()) {
        if (!events) spdlog::error("live: reading the log failed: {}", events.error().ToString());
        // Try again in a while, not in a tight loop.
        std::unique_lock lock(stop_mu_);
        stop_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_.load(); });
        break;
      }
      std::vector<std::shared_ptr<const LiveEvent>> batch;
      batch.reserve(events.value().size());
      for (RecordedEvent& e : events.value()) batch.push_back(MakeLiveEvent(facts_, std::move(e)));
      head = batch.back()->event.position;
      Dispatch(batch);
    }
  }
}

// Reading, decoding and rendering every event for nobody cost 4-8% of the
// server's CPU in a worker lifecycle. Skipping is safe: whoever parks or
// subscribes after this reads the store, whose projection is at least at
// `projected` by now, and the hub hands out only what comes after.
bool LiveHub::PassUnheard(uint64_t projected) {
  std::lock_guard lock(mu_);
  if (!waiters_.empty() || !job_streams_.empty() || !feed_streams_.empty()) return false;
  head_ = projected;
  return true;
}

void LiveHub::Dispatch(const std::vector<std::shared_ptr<const LiveEvent>>& batch) {
  std::vector<std::shared_ptr<PollWaiter>> woken;
  {
    std::lock_guard lock(mu_);
    for (const auto& live : batch) {
      const RecordedEvent& e = live->event;
      if (auto it = waiters_.find(e.job_id); it != waiters_.end()) {
        for (auto w = it->second.begin(); w != it->second.end();) {
          if (e.version > w->second->seen_version()) {
            woken.push_back(std::move(w->second));
            w = it->second.erase(w);
            --waiter_count_;
          } else {
            ++w;
          }
        }
        if (it->second.empty()) waiters_.erase(it);
      }
      auto [begin, end] = job_streams_.equal_range(e.job_id);
      for (auto it = begin; it != end;) {
        it = it->second->Offer(live) ? std::next(it) : job_streams_.erase(it);
      }
      for (auto it = feed_streams_.begin(); it != feed_streams_.end();) {
        it = it->second->Offer(live) ? std::next(it) : feed_streams_.erase(it);
      }
      head_ = e.position;
    }
  }
  for (auto& waiter : woken) {
    Submit([waiter] { waiter->Wake(); });
  }
}

}  // namespace jobtrail::http::live
