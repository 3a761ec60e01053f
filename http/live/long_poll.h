#pragma once
// Long-polls: a status read that waits for its job to change.
//
//   GET /v1/jobs/{id}?wait=SECONDS with If-None-Match: "<version>" answers
//   as soon as the job's version differs (200, the new document), or 304
//   when the wait runs out (at most LiveOptions::max_wait_ms, 60 s).
//   The seed dialects' one-job status routes take the same opt-in `wait`:
//   the answer is the seed's usual one, sent as soon as the job changed
//   after the request arrived (or at once for a job in a final state), or
//   when the wait runs out. Without `wait` every route answers as before.
//
// WrapLongPoll decorates a route's handler: it runs the handler as usual
// (so every error, and every "not changed", is the route's own), and only
// when the answer is "nothing new yet" parks the request in the LiveHub
// (response_channel.h: no thread waits). On a change or at the deadline the
// handler runs again with the same request and that answer is sent.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "http/live/live_hub.h"
#include "http/server/response_channel.h"
#include "http/security/route_access.h"
#include "http/server/router.h"

namespace jobtrail::http::live {

struct PollRoute {
  // kV1: waits while the handler answers 304 (If-None-Match names the
  // current version). kDialect: waits until the job's version moves past
  // the one it had when the request came.
  enum class Kind { kV1, kDialect } kind = Kind::kV1;
  std::string job_param = "id";  // the path parameter naming the job
  bool by_external_ref = false;  // seed 000: the parameter is the external_ref
  ErrorBodyRenderer render_error = nullptr;  // a dialect's error body
};

RouteHandler WrapLongPoll(RouteHandler inner, PollRoute route, std::shared_ptr<LiveHub> hub);

// One parked request.
class PollWaiter : public std::enable_shared_from_this<PollWaiter> {
 public:
  PollWaiter(std::shared_ptr<LiveHub> hub, RouteHandler inner, PollRoute::Kind kind,
             std::string job_id, uint64_t seen_version, Millis deadline,
             std::shared_ptr<const HttpRequest> request, std::shared_ptr<ResponseChannel> channel);

  // Parks (or answers at once if the job already moved), arms the deadline.
  void Begin();
  void Wake();       // the hub saw an event of the job after seen_version()
  void Expire();     // the deadline, or the server shutting down
  void Abandon();    // the client went away

  const std::string& job_id() const { return job_id_; }
  uint64_t seen_version() const { return seen_.load(); }
  const std::shared_ptr<ResponseChannel>& channel() const { return channel_; }

 private:
  // Answers now, or parks while there is nothing new (REQUIRES(mu_)).
  void Settle(bool at_deadline);
  HttpResponse Run();
  uint64_t CurrentVersion();

  std::shared_ptr<LiveHub> hub_;
  const RouteHandler inner_;
  const PollRoute::Kind kind_;
  const std::string job_id_;
  std::atomic<uint64_t> seen_;
  const Millis deadline_;
  std::shared_ptr<const HttpRequest> request_;  // without `wait`
  std::shared_ptr<ResponseChannel> channel_;
  std::mutex mu_;
  bool done_ = false;  // GUARDED_BY(mu_)
};

}  // namespace jobtrail::http::live
