#include "http/live/event_stream.h"

#include <fmt/format.h>

#include "http/server/json_writer.h"

namespace jobtrail::http::live {
namespace {

// Events read from the store per page while replaying.
constexpr size_t kPage = 256;
// Hub events kept aside while replaying; beyond, the replay reads them from
// the store instead.
constexpr size_t kMaxHeld = 1024;

}  // namespace

std::string EventFrame(const LiveEvent& e) {
  // RenderEventJson writes one line: one data field.
  return fmt::format("id: {}\ndata: {}\n\n", e.event.position, e.json);
}

std::string ControlFrame(std::string_view event, std::string_view json) {
  return fmt::format("event: {}\ndata: {}\n\n", event, json);
}

EventStream::EventStream(std::shared_ptr<LiveHub> hub, StreamSpec spec,
                         std::shared_ptr<ResponseChannel> channel)
    : hub_(std::move(hub)),
      spec_(std::move(spec)),
      channel_(std::move(channel)),
      max_buffered_(hub_->options().max_buffered_bytes),
      cursor_(spec_.after_position),
      version_(spec_.after_version) {}

void EventStream::Begin() {
  HttpResponse head;
  head.status = 200;
  head.content_type = "text/event-stream; charset=utf-8";
  head.With("Cache-Control", "no-cache").With("X-Accel-Buffering", "no");
  if (!channel_->BeginStream(head)) return;
  std::weak_ptr<EventStream> weak = weak_from_this();
  channel_->OnClose([weak] {
    if (auto self = weak.lock()) {
      {
        std::lock_guard lock(self->mu_);
        self->state_ = State::kDone;
      }
      self->Forget();
    }
  });
  channel_->OnDrained(max_buffered_ / 4, [weak] {
    if (auto self = weak.lock()) self->Resume();
  });
  {
    std::lock_guard lock(mu_);
    // A reconnecting EventSource waits this long (ms) before it tries again.
    if (!WriteLocked(": jobtrail event stream\nretry: 2000\n\n")) return;
    ArmHeartbeatLocked(last_write_ + hub_->options().heartbeat_ms);
  }
  // Not under mu_: the hub's lock comes first.
  if (!hub_->AddStream(shared_from_this())) {
    std::lock_guard lock(mu_);
    DropLocked("OVERLOADED", "too many event streams are open; retry shortly");
    return;
  }
  auto self = shared_from_this();
  hub_->Submit([self] { self->Replay(); });
}

Result<std::vector<std::shared_ptr<const LiveEvent>>> EventStream::ReadPage(uint64_t position,
                                                                           uint64_t version,
                                                                           bool& end) {
  std::vector<RecordedEvent> events;
  if (spec_.job_id.empty()) {
    BOOST_OUTCOME_TRY(page, hub_->store().Feed(position, kPage));
    end = page.size() < kPage;
    events = std::move(page);
  } else {
    BOOST_OUTCOME_TRY(page, hub_->store().ReadHistory(spec_.job_id, version, kPage));
    end = !page.has_more;
    events = std::move(page.events);
  }
  std::vector<std::shared_ptr<const LiveEvent>> out;
  out.reserve(events.size());
  for (RecordedEvent& e : events) out.push_back(MakeLiveEvent(hub_->facts(), std::move(e)));
  return out;
}

void EventStream::Replay() {
  for (;;) {
    uint64_t position = 0;
    uint64_t version = 0;
    {
      std::lock_guard lock(mu_);
      if (state_ != State::kReplaying || paused_) return;
      position = cursor_;
      version = version_;
    }
    bool end = false;
    auto page = ReadPage(position, version, end);
    bool finished = false;
    {
      std::lock_guard lock(mu_);
      if (state_ != State::kReplaying) return;
      if (!page) {
        if (page.error().code == Code::kNotFound) {
          EndLocked("gone");  // the job expired meanwhile
        } else {
          DropLocked("INTERNAL", "reading the log failed; reconnect to resume");
        }
        finished = true;
      } else {
        for (const auto& e : page.value()) {
          if (!DeliverLocked(*e)) {
            finished = true;
            break;
          }
        }
        if (!finished && !end && channel_->Unsent() > max_buffered_ / 2) {
          paused_ = true;  // Resume() goes on once the socket took most of it
          return;
        }
      }
    }
    if (finished) {
      Forget();
      return;
    }
    if (!end) continue;
    // Nothing more in the store just now: take what the hub kept aside and
    // go live, with no batch handed out in between.
    bool live = false;
    hub_->Exclusive([&] {
      std::lock_guard lock(mu_);
      if (state_ != State::kReplaying) return;
      for (const auto& e : held_) {
        if (e->event.position > cursor_ && !DeliverLocked(*e)) {
          finished = true;
          break;
        }
      }
      held_.clear();
      if (finished) return;
      if (!overflow_) {
        state_ = State::kLive;
        live = true;
      }
      overflow_ = false;  // too much came meanwhile: read it from the store
    });
    if (finished) Forget();
    if (live || finished) return;
  }
}

void EventStream::Resume() {
  {
    std::lock_guard lock(mu_);
    if (!paused_ || state_ != State::kReplaying) return;
    paused_ = false;
  }
  auto self = shared_from_this();
  hub_->Submit([self] { self->Replay(); });
}

bool EventStream::Offer(const std::shared_ptr<const LiveEvent>& e) {
  std::lock_guard lock(mu_);
  if (state_ == State::kDone) return false;
  if (e->event.position <= cursor_) return true;
  if (state_ == State::kReplaying) {
    if (overflow_) return true;
    if (held_.size() < kMaxHeld) {
      held_.push_back(e);
    } else {
      held_.clear();
      overflow_ = true;
    }
    return true;
  }
  return DeliverLocked(*e);
}

bool EventStream::DeliverLocked(const LiveEvent& e) {
  const RecordedEvent& event = e.event;
  if (event.position <= cursor_) return true;
  cursor_ = event.position;
  if (!spec_.job_id.empty()) {
    if (event.job_id != spec_.job_id) return true;
    version_ = event.version;
    if (!WriteLocked(EventFrame(e))) return false;
    if (EndsJob(event.body)) {
      EndLocked("final");
      return false;
    }
  } else if (MayReadInFeed(spec_.principal, e.facts) && spec_.filter.Matches(e)) {
    if (!WriteLocked(EventFrame(e))) return false;
    if (spec_.limit > 0 && ++delivered_ >= spec_.limit) {
      EndLocked("limit");
      return false;
    }
  }
  if (state_ == State::kLive && channel_->Unsent() > max_buffered_) {
    DropLocked("SLOW_CONSUMER",
               "the client read too slowly; reconnect with Last-Event-ID to resume");
    return false;
  }
  return true;
}

bool EventStream::WriteLocked(const std::string& frame) {
  if (!channel_->Write(frame)) {
    state_ = State::kDone;  // the client is gone
    return false;
  }
  last_write_ = hub_->Now();
  return true;
}

void EventStream::EndLocked(std::string_view reason) {
  JsonWriter w;
  w.StartObject().Field("reason", reason).Field("last_event_id", cursor_);
  if (!spec_.job_id.empty()) w.Field("job_id", spec_.job_id).Field("version", version_);
  w.EndObject();
  (void)channel_->Write(ControlFrame("end", w.Take()));
  channel_->End();
  state_ = State::kDone;
  held_.clear();
}

void EventStream::DropLocked(std::string_view code, std::string_view message) {
  JsonWriter w;
  w.StartObject()
      .Field("code", code)
      .Field("message", message)
      .Field("last_event_id", cursor_)
      .EndObject();
  (void)channel_->Write(ControlFrame("dropped", w.Take()));
  channel_->End();
  state_ = State::kDone;
  held_.clear();
  if (code == "SLOW_CONSUMER") hub_->CountDropped();
  // The reader has this long to take the last bytes; then the connection
  // goes, and with it what the server still holds for it.
  std::shared_ptr<ResponseChannel> channel = channel_;
  hub_->timers().At(hub_->Now() + hub_->options().drop_grace_ms, [channel] {
    if (channel->Unsent() > 0) channel->Abort();
  });
}

void EventStream::ArmHeartbeatLocked(Millis at) {
  std::weak_ptr<EventStream> weak = weak_from_this();
  hub_->timers().At(at, [weak] {
    if (auto self = weak.lock()) self->Heartbeat();
  });
}

void EventStream::Heartbeat() {
  const Millis every = hub_->options().heartbeat_ms;
  bool finished = false;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kDone) return;
    const Millis now = hub_->Now();
    if (now - last_write_ < every) {
      ArmHeartbeatLocked(last_write_ + every);  // something was written meanwhile
      return;
    }
    // The next one is armed before this one is written: whoever sees this
    // comment can count on the next.
    ArmHeartbeatLocked(now + every);
    if (!WriteLocked(": keep-alive\n\n")) {
      finished = true;
    } else if (state_ == State::kLive && channel_->Unsent() > max_buffered_) {
      DropLocked("SLOW_CONSUMER",
                 "the client read too slowly; reconnect with Last-Event-ID to resume");
      finished = true;
    }
  }
  if (finished) Forget();
}

void EventStream::Shutdown() {
  std::lock_guard lock(mu_);
  if (state_ == State::kDone) return;
  DropLocked("SHUTTING_DOWN", "the server is shutting down; reconnect with Last-Event-ID");
}

void EventStream::Forget() { hub_->RemoveStream(this); }

}  // namespace jobtrail::http::live
