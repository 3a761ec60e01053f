#include "http/live/stream_routes.h"

#include <fmt/format.h>

#include <charconv>

#include "http/server/error_mapping.h"
#include "http/server/json_writer.h"
#include "http/live/event_stream.h"
#include "http/v1/query_parsing.h"
#include "http/server/response_channel.h"

namespace jobtrail::http::live {
namespace {

constexpr uint64_t kMaxLimit = 1'000'000;

class StreamStart final : public DeferredResponse {
 public:
  StreamStart(std::shared_ptr<LiveHub> hub, StreamSpec spec)
      : hub_(std::move(hub)), spec_(std::move(spec)) {}
  void Start(std::shared_ptr<const HttpRequest> /*request*/,
             std::shared_ptr<ResponseChannel> channel) override {
    auto stream = std::make_shared<EventStream>(hub_, std::move(spec_), std::move(channel));
    stream->Begin();
  }

 private:
  std::shared_ptr<LiveHub> hub_;
  StreamSpec spec_;
};

HttpResponse Deferred(const std::shared_ptr<LiveHub>& hub, StreamSpec spec) {
  HttpResponse r;
  r.deferred = std::make_shared<StreamStart>(hub, std::move(spec));
  return r;
}

ApiError Overloaded() {
  return ApiError(MakeError(Code::kUnavailable, "OVERLOADED",
                            "too many event streams are open; retry shortly"));
}

// The Last-Event-ID header: the position of the last event the client has.
ApiResult<std::optional<uint64_t>> LastEventId(const HttpRequest& request) {
  std::optional<std::string> text = request.Header("Last-Event-ID");
  if (!text || text->empty()) return std::optional<uint64_t>();
  uint64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end) {
    return InvalidHeader("Last-Event-ID", "must be an event id this server sent (a log position)");
  }
  return std::optional<uint64_t>(value);
}

// Comma-separated values of a parameter ("" items dropped).
std::vector<std::string> ListParameter(const HttpRequest& request, std::string_view name) {
  std::vector<std::string> out;
  const std::string* text = request.Query(name);
  if (text == nullptr) return out;
  size_t start = 0;
  while (start <= text->size()) {
    const size_t comma = std::min(text->find(',', start), text->size());
    if (comma > start) out.push_back(text->substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

ApiResult<std::vector<JobStatus>> StatusParameter(const HttpRequest& request) {
  std::vector<JobStatus> out;
  for (const std::string& word : ListParameter(request, "status")) {
    auto status = ParseStatus(word);
    if (!status) {
      JsonWriter allowed;
      allowed.StartArray();
      for (JobStatus s : kAllStatuses) allowed.String(StatusName(s));
      allowed.EndArray();
      return InvalidParameter("status", fmt::format("unknown status '{}'", word), allowed.Take());
    }
    out.push_back(*status);
  }
  return out;
}

// The log position of the job's event at `version` (0 for version 0).
ApiResult<uint64_t> PositionOf(JobReads& store, const std::string& id, uint64_t version) {
  if (version == 0) return uint64_t{0};
  BOOST_OUTCOME_TRY(page, store.ReadHistory(id, version - 1, 1));
  if (page.events.empty()) return Internal(fmt::format("job {} has no version {}", id, version));
  return page.events.front().position;
}

// The job's last version whose event is at or before `position`: binary
// search, so a job of 100,000 events costs 17 reads.
ApiResult<uint64_t> VersionAt(JobReads& store, const std::string& id, uint64_t current,
                              uint64_t position) {
  uint64_t lo = 0;  // pos(lo) <= position
  uint64_t hi = current;
  BOOST_OUTCOME_TRY(last, PositionOf(store, id, current));
  if (last <= position) return current;
  while (hi - lo > 1) {  // pos(hi) > position
    const uint64_t mid = lo + (hi - lo) / 2;
    BOOST_OUTCOME_TRY(at, PositionOf(store, id, mid));
    (at <= position ? lo : hi) = mid;
  }
  return lo;
}

ApiResult<HttpResponse> JobStream(const std::shared_ptr<LiveHub>& hub,
                                  const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {"after_version"}));
  BOOST_OUTCOME_TRY(after_version, ParseUintParameter(request, "after_version", 0, INT64_MAX));
  BOOST_OUTCOME_TRY(last_id, LastEventId(request));
  JobReads& store = hub->store();
  BOOST_OUTCOME_TRY(job, store.LoadJob(id, std::nullopt));
  StreamSpec spec;
  spec.job_id = id;
  if (last_id) {
    // Last-Event-ID wins: it is what a reconnecting EventSource sends.
    BOOST_OUTCOME_TRY(version, VersionAt(store, id, job.version, *last_id));
    spec.after_version = version;
    spec.after_position = *last_id;
  } else {
    spec.after_version = std::min(after_version.value_or(job.version), job.version);
    BOOST_OUTCOME_TRY(position, PositionOf(store, id, spec.after_version));
    spec.after_position = position;
  }
  if (IsFinal(job.status) && spec.after_version >= job.version) {
    // Nothing will come: 204 tells an EventSource to stop reconnecting.
    HttpResponse done;
    done.status = 204;
    done.content_type.clear();
    return done;
  }
  if (!hub->AcceptingStreams()) return Overloaded();
  return Deferred(hub, std::move(spec));
}

ApiResult<HttpResponse> FeedStream(const std::shared_ptr<LiveHub>& hub,
                                   const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(
      CheckParameters(request, {"after", "queue", "type", "owner", "status", "limit"}));
  BOOST_OUTCOME_TRY(after, ParseUintParameter(request, "after", 0, UINT64_MAX));
  BOOST_OUTCOME_TRY(limit, ParseUintParameter(request, "limit", 1, kMaxLimit));
  BOOST_OUTCOME_TRY(last_id, LastEventId(request));
  StreamSpec spec;
  spec.filter.queues = ListParameter(request, "queue");
  spec.filter.types = ListParameter(request, "type");
  // A non-admin naming another owner gets an empty stream (as a list):
  // it only ever sees its own jobs' events anyway.
  spec.filter.owners = ListParameter(request, "owner");
  BOOST_OUTCOME_TRY(statuses, StatusParameter(request));
  spec.filter.statuses = std::move(statuses);
  spec.principal = request.principal;
  spec.limit = limit.value_or(0);
  const uint64_t log_end = hub->store().Progress().log_position;
  if (last_id) {
    if (*last_id > log_end) {
      return InvalidHeader("Last-Event-ID",
                           fmt::format("no event {} in this log (it ends at {})", *last_id, log_end));
    }
    spec.after_position = *last_id;
  } else if (after) {
    if (*after > log_end) {
      return InvalidParameter("after",
                              fmt::format("the log ends at position {}", log_end));
    }
    spec.after_position = *after;
  } else {
    spec.after_position = log_end;  // from now on
  }
  if (!hub->AcceptingStreams()) return Overloaded();
  return Deferred(hub, std::move(spec));
}

RouteHandler Handler(std::shared_ptr<LiveHub> hub,
                     ApiResult<HttpResponse> (*route)(const std::shared_ptr<LiveHub>&,
                                                      const HttpRequest&)) {
  return [hub = std::move(hub), route](const HttpRequest& request) {
    auto response = route(hub, request);
    if (response) return std::move(response).value();
    HttpResponse error = ErrorResponse(response.error());
    if (response.error().error.reason == "OVERLOADED") error.With("Retry-After", "1");
    return error;
  };
}

}  // namespace

void AddStreamRoutes(Router& router, ApiContext& context, const std::shared_ptr<LiveHub>& hub) {
  router.Add("GET", "/v1/jobs/{id}/stream", Handler(hub, JobStream));
  router.Add("GET", "/v1/events/stream", Handler(hub, FeedStream));
  // Who may call them: a job's stream is a read of that job (its owner, any
  // worker, admins, a share link for it), polled; the feed is a list (each
  // non-admin sees its own jobs' events; not a share link).
  context.route_access.push_back(RouteAccessRule{"GET", "/v1/jobs/{id}/stream",
                                                 RouteAccess::kJobRead, RateClass::kPoll});
  context.route_access.push_back(RouteAccessRule{"GET", "/v1/events/stream",
                                                 RouteAccess::kListRead, RateClass::kGeneral});
}

}  // namespace jobtrail::http::live
