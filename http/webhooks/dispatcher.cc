#include "http/webhooks/dispatcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "http/security/secret_file.h"
#include "http/webhooks/http_sender.h"
#include "http/webhooks/signature.h"

namespace jobtrail::webhooks {
namespace {

constexpr size_t kFeedBatch = 256;
constexpr auto kCheckpointEvery = std::chrono::seconds(1);

Result<std::optional<uint64_t>> ReadCheckpoint(const std::string& path) {
  auto text = http::ReadWholeFile(path);
  if (!text) {
    if (text.error().code == Code::kNotFound) return std::optional<uint64_t>();
    return text.error();
  }
  std::string_view s = text.value();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return DataLoss(fmt::format("{} does not hold a log position", path));
  }
  return std::optional<uint64_t>(value);
}

}  // namespace

Dispatcher::Dispatcher(JobStore& store, SubscriptionBook& book, DispatcherOptions options)
    : store_(store), book_(book), options_(std::move(options)) {}

Result<std::unique_ptr<Dispatcher>> Dispatcher::Create(JobStore& store, SubscriptionBook& book,
                                                       DispatcherOptions options) {
  BOOST_OUTCOME_TRYV(options.retry.Validate());
  if (options.threads < 1 || options.threads > 256) {
    return InvalidArgument("webhook threads must be 1..256");
  }
  if (options.max_pending < 1) return InvalidArgument("max pending webhooks must be at least 1");
  if (options.timeout_ms < 1) return InvalidArgument("the webhook timeout must be positive");
  if (options.checkpoint_path.empty()) return InvalidArgument("no checkpoint path");
  std::unique_ptr<Dispatcher> d(new Dispatcher(store, book, std::move(options)));
  BOOST_OUTCOME_TRY(saved, ReadCheckpoint(d->options_.checkpoint_path));
  uint64_t checkpoint = 0;
  if (saved) {
    checkpoint = *saved;
  } else {
    // First start here: what the log holds already predates the webhooks.
    checkpoint = store.Progress().log_position;
    BOOST_OUTCOME_TRYV(http::WriteFileAtomically(d->options_.checkpoint_path,
                                                 fmt::format("{}\n", checkpoint), 0600));
  }
  d->stats_.cursor = checkpoint;
  d->stats_.checkpoint = checkpoint;
  d->saved_checkpoint_ = checkpoint;
  return d;
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stop_) return;
  started_ = true;
  catch_up_to_ = store_.Progress().log_position;
  stats_.caught_up = stats_.cursor >= catch_up_to_;
  if (options_.tap != nullptr) {
    for (const Subscription& s : book_.List()) {
      for (JobStatus status : s.statuses) options_.tap->Want(status);
    }
    options_.tap->Attach([this] { cv_.notify_all(); });
  }
  feed_ = std::thread([this] { FeedLoop(); });
  for (size_t i = 0; i < options_.threads; ++i) {
    workers_.emplace_back([this] { DeliveryLoop(); });
  }
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
    stopping_ = true;
  }
  if (options_.tap != nullptr) options_.tap->Detach();
  cv_.notify_all();
  if (feed_.joinable()) feed_.join();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  SaveCheckpoint(/*force=*/true);
}

void Dispatcher::Poke() { cv_.notify_all(); }

DispatcherStats Dispatcher::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Dispatcher::WaitFor(const std::function<bool(const DispatcherStats&)>& done,
                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return done(stats_); });
}

double Dispatcher::Random() {
  if (options_.random) return options_.random();
  std::lock_guard lock(random_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(prng_);
}

uint64_t Dispatcher::CheckpointLocked() const {
  if (pending_positions_.empty()) return stats_.cursor;
  return std::min(stats_.cursor, pending_positions_.begin()->first - 1);
}

void Dispatcher::SaveCheckpoint(bool force) {
  uint64_t checkpoint = 0;
  {
    std::lock_guard lock(mu_);
    checkpoint = CheckpointLocked();
    stats_.checkpoint = checkpoint;
  }
  const auto now = std::chrono::steady_clock::now();
  if (checkpoint == saved_checkpoint_ || (!force && now - saved_at_ < kCheckpointEvery)) return;
  if (auto saved = http::WriteFileAtomically(options_.checkpoint_path,
                                             fmt::format("{}\n", checkpoint), 0600);
      !saved) {
    // The old checkpoint stays: a restart folds a longer tail, nothing more.
    spdlog::warn("webhooks: cannot save the checkpoint: {}", saved.error().message);
    return;
  }
  saved_checkpoint_ = checkpoint;
  saved_at_ = now;
}

void Dispatcher::FeedLoop() {
  const auto poll = std::chrono::milliseconds(options_.poll_ms);
  for (;;) {
    uint64_t cursor = 0;
    {
      std::unique_lock lock(mu_);
      if (stop_) return;
      if (pending_.size() >= options_.max_pending) {
        if (!stats_.caught_up) {
          // The delivery threads wait for the catch-up; with the table full
          // they must start, or nothing would ever drain it. Attempts whose
          // records lie further in the log may then repeat (at-least-once).
          spdlog::warn("webhooks: {} pending deliveries at start; delivering before the "
                       "catch-up reached the log's head", pending_.size());
          stats_.caught_up = true;
          cv_.notify_all();
        }
        cv_.wait_for(lock, poll);
        continue;
      }
      cursor = stats_.cursor;
    }
    // The tap, while it covers the cursor; the log otherwise.
    std::vector<TapEvent> tapped;
    uint64_t seen = 0;
    if (options_.tap != nullptr && options_.tap->Take(cursor, tapped, seen)) {
      for (const TapEvent& e : tapped) Fold(e, /*facts_known=*/true);
      {
        std::unique_lock lock(mu_);
        stats_.cursor = std::max(stats_.cursor, seen);
        if (!stats_.caught_up && stats_.cursor >= catch_up_to_) stats_.caught_up = true;
      }
      cv_.notify_all();
      SaveCheckpoint(/*force=*/false);
      std::unique_lock lock(mu_);
      if (tapped.empty()) cv_.wait_for(lock, poll);
      continue;
    }
    auto events = store_.Feed(cursor, kFeedBatch);
    if (!events) {
      spdlog::error("webhooks: cannot read the log after position {}: {}", cursor,
                    events.error().ToString());
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, poll, [&] { return stop_; });
      continue;
    }
    for (const RecordedEvent& e : events.value()) {
      TapEvent t;
      t.position = e.position;
      t.job_id = e.job_id;
      t.event_id = e.event_id;
      t.version = e.version;
      t.kind = KindOf(e.body);
      if (const auto* enqueued = std::get_if<Enqueued>(&e.body)) {
        t.facts = {enqueued->owner, enqueued->type, enqueued->queue, enqueued->callback_url};
      }
      if (const auto* attempt = std::get_if<WebhookAttempted>(&e.body)) t.attempt = *attempt;
      Fold(t, /*facts_known=*/t.kind == EventKind::kEnqueued);
      std::lock_guard lock(mu_);
      stats_.cursor = e.position;
    }
    {
      std::lock_guard lock(mu_);
      if (!stats_.caught_up && stats_.cursor >= catch_up_to_) stats_.caught_up = true;
    }
    cv_.notify_all();
    SaveCheckpoint(/*force=*/false);
    if (events.value().size() < kFeedBatch) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, poll, [&] { return stop_; });
    }
  }
}

void Dispatcher::Fold(const TapEvent& event, bool facts_known) {
  if (event.attempt) {
    FoldAttempt(*event.attempt);
    return;
  }
  const std::optional<JobStatus> to = TransitionTo(event.kind);
  if (!to) return;
  if (uint64_t generation = book_.generation(); generation != book_generation_) {
    subscriptions_ = book_.List();
    book_generation_ = generation;
  }
  // Cheap first: which subscriptions could want this at all.
  std::vector<const Subscription*> candidates;
  for (const Subscription& s : subscriptions_) {
    if (event.position > s.after_position &&
        std::find(s.statuses.begin(), s.statuses.end(), *to) != s.statuses.end()) {
      candidates.push_back(&s);
    }
  }
  if (candidates.empty() && !IsFinal(*to)) return;
  JobFacts facts = event.facts;
  if (!facts_known) {
    // The job's first event has the facts; an expired job has no more
    // deliveries (nothing could be recorded).
    auto first = store_.ReadHistory(event.job_id, 0, 1);
    if (!first || first.value().events.empty()) return;
    const auto* first_event = std::get_if<Enqueued>(&first.value().events.front().body);
    if (first_event == nullptr) return;
    facts = {first_event->owner, first_event->type, first_event->queue,
             first_event->callback_url};
  }
  std::vector<Delivery> wanted;
  auto make = [&](std::string webhook_id) {
    Delivery d;
    d.id = DeliveryId(event.event_id, webhook_id.empty() ? kCallbackTarget : webhook_id);
    d.job_id = event.job_id;
    d.event_id = event.event_id;
    d.position = event.position;
    d.event_version = event.version;
    d.event_type = std::string(EventKindName(event.kind));
    d.webhook_id = std::move(webhook_id);
    d.owner = facts.owner;
    return d;
  };
  for (const Subscription* s : candidates) {
    if (Wants(*s, event.position, *to, facts)) wanted.push_back(make(s->id));
  }
  if (CallbackWants(*to, facts)) {
    Delivery d = make("");
    d.callback_url = facts.callback_url;
    wanted.push_back(std::move(d));
  }
  if (wanted.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (Delivery& d : wanted) AddLocked(std::move(d));
  }
  cv_.notify_all();
}

void Dispatcher::AddLocked(Delivery d) {
  if (pending_.count(d.id) != 0) return;
  d.due = store_.clock().Now();
  due_.push(Due{d.due, seq_++, d.id});
  ++pending_positions_[d.position];
  const std::string id = d.id;
  pending_.emplace(id, std::move(d));
  stats_.pending = pending_.size();
}

void Dispatcher::EraseLocked(std::unordered_map<std::string, Delivery>::iterator it) {
  auto pos = pending_positions_.find(it->second.position);
  if (pos != pending_positions_.end() && --pos->second == 0) pending_positions_.erase(pos);
  pending_.erase(it);
  stats_.pending = pending_.size();
}

// A recorded attempt, read back from the log: news only when it is ahead of
// what this process knows (after a restart); its own records are no-ops.
void Dispatcher::FoldAttempt(const WebhookAttempted& attempt) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(attempt.delivery_id);
  if (it == pending_.end() || it->second.in_flight) return;
  Delivery& d = it->second;
  if (attempt.attempt <= d.attempts_made) return;
  d.attempts_made = attempt.attempt;
  if (attempt.outcome != WebhookOutcome::kRetrying) {
    EraseLocked(it);
    return;
  }
  d.due = attempt.next_attempt_at.value_or(store_.clock().Now());
  due_.push(Due{d.due, seq_++, d.id});
}

void Dispatcher::DeliveryLoop() {
  SenderOptions sender_options;
  sender_options.allow_private = options_.allow_private;
  sender_options.timeout_ms = options_.timeout_ms;
  sender_options.stop = &stopping_;
  auto created = HttpSender::Create(sender_options);
  if (!created) {
    spdlog::error("webhooks: a delivery thread cannot start: {}", created.error().ToString());
    return;
  }
  std::unique_ptr<HttpSender> sender = std::move(created).value();
  const Millis poll = options_.poll_ms;
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!stats_.caught_up || due_.empty()) {
      cv_.wait_for(lock, std::chrono::milliseconds(poll));
      continue;
    }
    const Millis now = store_.clock().Now();
    if (due_.top().at > now) {
      cv_.wait_for(lock, std::chrono::milliseconds(std::min(poll, due_.top().at - now)));
      continue;
    }
    const Due next = due_.top();
    due_.pop();
    auto it = pending_.find(next.id);
    // Entries are not removed from the heap when their delivery moves on:
    // only the one matching its current due time counts.
    if (it == pending_.end() || it->second.in_flight || it->second.due != next.at) continue;
    it->second.in_flight = true;
    const Delivery delivery = it->second;
    lock.unlock();
    AttemptResult result = Attempt(delivery, *sender);
    lock.lock();
    it = pending_.find(delivery.id);
    if (it == pending_.end()) continue;
    it->second.in_flight = false;
    if (result.aborted) {
      due_.push(Due{it->second.due, seq_++, it->first});
    } else if (result.drop) {
      ++stats_.dropped;
      EraseLocked(it);
    } else {
      ++stats_.attempts;
      it->second.attempts_made = result.record.attempt;
      if (result.record.outcome == WebhookOutcome::kRetrying) {
        it->second.due = *result.record.next_attempt_at;
        due_.push(Due{it->second.due, seq_++, it->first});
      } else {
        ++(result.record.outcome == WebhookOutcome::kDelivered ? stats_.delivered
                                                                : stats_.gave_up);
        EraseLocked(it);
      }
    }
    cv_.notify_all();
  }
}

Dispatcher::AttemptResult Dispatcher::Attempt(const Delivery& d, HttpSender& sender) {
  AttemptResult result;
  std::string url;
  std::string secret;
  if (!d.webhook_id.empty()) {
    auto subscription = book_.Get(d.webhook_id);
    if (!subscription) {
      result.drop = true;  // deleted meanwhile: nobody wants it any more
      return result;
    }
    url = subscription->url;
    secret = subscription->secret;
  } else {
    url = d.callback_url;
    secret = CallbackSecret(options_.signing_key, d.owner);
  }
  // The body is the event and the job as of that event: the same bytes for
  // every attempt, whenever it runs.
  auto history = store_.History(d.job_id);
  if (!history || history.value().size() < d.event_version) {
    result.drop = true;  // expired (or past its retention) meanwhile
    return result;
  }
  std::vector<RecordedEvent>& events = history.value();
  events.resize(d.event_version);
  auto job = FoldEvents(events);
  if (!job) {
    spdlog::error("webhooks: job {} does not fold: {}", d.job_id, job.error().ToString());
    result.drop = true;
    return result;
  }
  const std::string body = RenderDeliveryBody(d.id, d.webhook_id, events.back(), job.value());
  const int attempt = d.attempts_made + 1;
  OutgoingPost post;
  post.url = url;
  post.body = body;
  post.headers = {
      {"Content-Type", "application/json"},
      {"X-Jobtrail-Delivery", d.id},
      {"X-Jobtrail-Event", d.event_type},
      {"X-Jobtrail-Webhook", d.webhook_id.empty() ? std::string(kCallbackTarget) : d.webhook_id},
      {"X-Jobtrail-Attempt", std::to_string(attempt)},
      {"X-Jobtrail-Signature", SignatureHeader(secret, store_.clock().Now() / 1000, body)},
  };
  const SendResult sent = sender.Post(post);
  if (stopping_.load()) {
    result.aborted = true;  // not recorded: the next start attempts it again
    return result;
  }
  if (!sent.refused_address.empty()) {
    spdlog::warn("webhooks: delivery {} ({}) refused: {} is loopback or private", d.id,
                 d.webhook_id.empty() ? "callback" : d.webhook_id, sent.refused_address);
  }
  WebhookAttempted& r = result.record;
  r.delivery_id = d.id;
  r.webhook_id = d.webhook_id;
  r.event_version = d.event_version;
  r.event_type = d.event_type;
  r.attempt = attempt;
  r.status_code = sent.status_code;
  r.error = sent.error;
  r.duration_ms = sent.duration_ms;
  if (sent.delivered()) {
    r.outcome = WebhookOutcome::kDelivered;
  } else if (!options_.retry.HasAttemptAfter(attempt)) {
    r.outcome = WebhookOutcome::kGaveUp;
  } else {
    r.outcome = WebhookOutcome::kRetrying;
    r.next_attempt_at =
        store_.clock().Now() + options_.retry.DelayBeforeAttempt(attempt + 1, Random());
  }
  AppendRequest record;
  record.job_id = d.job_id;
  record.actor = "system";
  record.events.push_back(r);
  auto appended = store_.Append(std::move(record));
  if (!appended) {
    if (appended.error().code == Code::kNotFound) {
      result.drop = true;  // the job expired during the attempt
      return result;
    }
    // Kept in memory: a restart that does not find this attempt in the log
    // makes it again (at-least-once).
    spdlog::error("webhooks: cannot record attempt {} of delivery {}: {}", attempt, d.id,
                  appended.error().ToString());
  }
  if (!sent.delivered()) {
    spdlog::info("webhooks: delivery {} of job {} attempt {} failed: {}", d.id, d.job_id, attempt,
                 sent.error);
  }
  return result;
}

}  // namespace jobtrail::webhooks
