#include "http/live/long_poll.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "http/server/error_mapping.h"

namespace jobtrail::http::live {
namespace {

// ?wait=SECONDS: a whole number; above the maximum waits the maximum.
ApiResult<Millis> ParseWait(const std::string& text, Millis max_ms) {
  uint64_t seconds = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return InvalidParameter("wait", fmt::format("'{}' is not a whole number of seconds "
                                                "(0 to {})", text, max_ms / 1000));
  }
  if (seconds >= uint64_t(max_ms / 1000) + 1) return max_ms;
  return std::min<Millis>(Millis(seconds) * 1000, max_ms);
}

HttpRequest WithoutWait(const HttpRequest& request) {
  HttpRequest copy = request;
  std::erase_if(copy.query, [](const auto& kv) { return kv.first == "wait"; });
  return copy;
}

HttpResponse Refuse(const ApiError& error, const PollRoute& route, const HttpRequest& request,
                    Millis now) {
  if (route.render_error == nullptr) return ErrorResponse(error);
  return JsonResponse(HttpStatusFor(error.error), route.render_error(error, request, now));
}

// The job a request polls, or "" (the route then answers as it would).
std::string PolledJob(JobReads& store, const PollRoute& route, const HttpRequest& request) {
  const std::string* param = request.Param(route.job_param);
  if (param == nullptr) return "";
  if (!route.by_external_ref) return *param;
  // Seed 000 stores captcha ids as sent; hex digits match in either case.
  std::string lower = *param;
  std::string upper = *param;
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& ref : {*param, lower, upper}) {
    if (auto id = store.FindByExternalRef(ref)) return id.value();
  }
  return "";
}

HttpResponse RunRoute(const RouteHandler& inner, const HttpRequest& request) {
  RequestIdScope scope(request.request_id);
  try {
    return inner(request);
  } catch (const std::exception& e) {
    return ErrorResponse(Internal(fmt::format("long-poll {}: exception: {}", request.path, e.what())),
                         request.request_id);
  }
}

class LongPollStart final : public DeferredResponse {
 public:
  LongPollStart(std::shared_ptr<LiveHub> hub, RouteHandler inner, PollRoute::Kind kind,
                std::string job_id, uint64_t seen, Millis deadline)
      : hub_(std::move(hub)),
        inner_(std::move(inner)),
        kind_(kind),
        job_id_(std::move(job_id)),
        seen_(seen),
        deadline_(deadline) {}

  void Start(std::shared_ptr<const HttpRequest> request,
             std::shared_ptr<ResponseChannel> channel) override {
    // The copy's header lookups point into the kept request: keep both.
    auto stripped = std::make_shared<HttpRequest>(WithoutWait(*request));
    auto holder = std::make_shared<std::pair<std::shared_ptr<const HttpRequest>,
                                             std::shared_ptr<HttpRequest>>>(request, stripped);
    std::shared_ptr<const HttpRequest> owned(holder, holder->second.get());
    auto waiter = std::make_shared<PollWaiter>(hub_, inner_, kind_, job_id_, seen_, deadline_,
                                               std::move(owned), channel);
    std::weak_ptr<PollWaiter> weak = waiter;
    channel->OnClose([weak] {
      if (auto w = weak.lock()) w->Abandon();
    });
    waiter->Begin();
  }

 private:
  std::shared_ptr<LiveHub> hub_;
  RouteHandler inner_;
  PollRoute::Kind kind_;
  std::string job_id_;
  uint64_t seen_;
  Millis deadline_;
};

}  // namespace

RouteHandler WrapLongPoll(RouteHandler inner, PollRoute route, std::shared_ptr<LiveHub> hub) {
  return [inner = std::move(inner), route = std::move(route),
          hub = std::move(hub)](const HttpRequest& request) -> HttpResponse {
    const std::string* wait_text = request.Query("wait");
    if (wait_text == nullptr) return inner(request);
    const HttpRequest copy = WithoutWait(request);
    auto wait = ParseWait(*wait_text, hub->options().max_wait_ms);
    if (!wait) return Refuse(wait.error(), route, request, hub->store().clock().Now());
    // A past version never changes: nothing to wait for.
    if (route.kind == PollRoute::Kind::kV1 && copy.Query("at_version") != nullptr) {
      return inner(copy);
    }
    const std::string job_id = PolledJob(hub->store(), route, copy);
    if (wait.value() == 0 || job_id.empty()) return inner(copy);
    // The version before the route runs: a change between the two is
    // then seen as one, never missed.
    auto doc = hub->store().Status(job_id);
    if (!doc) return inner(copy);
    if (route.kind == PollRoute::Kind::kDialect && IsFinal(doc.value().status)) {
      return inner(copy);  // a final job will not change: answer now
    }
    HttpResponse first = inner(copy);
    const bool unchanged =
        route.kind == PollRoute::Kind::kV1 ? first.status == 304 : first.status == 200;
    if (!unchanged) return first;
    HttpResponse later;
    later.deferred = std::make_shared<LongPollStart>(hub, inner, route.kind, job_id,
                                                     doc.value().version,
                                                     hub->Now() + wait.value());
    return later;
  };
}

PollWaiter::PollWaiter(std::shared_ptr<LiveHub> hub, RouteHandler inner, PollRoute::Kind kind,
                       std::string job_id, uint64_t seen_version, Millis deadline,
                       std::shared_ptr<const HttpRequest> request,
                       std::shared_ptr<ResponseChannel> channel)
    : hub_(std::move(hub)),
      inner_(std::move(inner)),
      kind_(kind),
      job_id_(std::move(job_id)),
      seen_(seen_version),
      deadline_(deadline),
      request_(std::move(request)),
      channel_(std::move(channel)) {}

void PollWaiter::Begin() {
  std::weak_ptr<PollWaiter> weak = weak_from_this();
  std::weak_ptr<LiveHub> hub = hub_;
  hub_->timers().At(deadline_, [weak, hub] {
    auto h = hub.lock();
    if (!h) return;
    h->Submit([weak] {
      if (auto w = weak.lock()) w->Expire();
    });
  });
  std::lock_guard lock(mu_);
  Settle(false);
}

void PollWaiter::Wake() {
  std::lock_guard lock(mu_);
  Settle(false);
}

void PollWaiter::Expire() {
  std::lock_guard lock(mu_);
  Settle(true);
}

void PollWaiter::Abandon() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  hub_->Unpark(this);
}

uint64_t PollWaiter::CurrentVersion() {
  auto doc = hub_->store().Status(job_id_);
  // Gone (expired) or unreadable: a change; the route says what it is.
  return doc ? doc.value().version : UINT64_MAX;
}

HttpResponse PollWaiter::Run() { return RunRoute(inner_, *request_); }

void PollWaiter::Settle(bool at_deadline) {
  while (!done_) {
    if (!at_deadline && CurrentVersion() <= seen_.load()) {
      if (!hub_->Park(shared_from_this())) {
        at_deadline = true;  // the server is full or shutting down: answer now
        continue;
      }
      // Parked; an event projected before that is visible now, one after
      // it wakes us: look once more so that nothing falls in between.
      if (CurrentVersion() <= seen_.load()) return;
    }
    hub_->Unpark(this);
    const uint64_t version = CurrentVersion();
    HttpResponse response = Run();
    if (!at_deadline && kind_ == PollRoute::Kind::kV1 && response.status == 304 &&
        version != UINT64_MAX) {
      // If-None-Match names the new version too: wait for the next one.
      seen_.store(version);
      continue;
    }
    done_ = true;
    hub_->CountAnswered();  // before the client can see the answer
    channel_->Finish(std::move(response));
  }
}

}  // namespace jobtrail::http::live
