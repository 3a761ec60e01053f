#pragma once
// The write paths shared by the single-job routes and POST /v1/batch: run a
// command against the JobStore, record it in the metrics, and produce the
// answer (201/200 with the write's outcome, or the error with the job's
// current version/status in details for 409/422).
#include <string>

#include "http/server/api_error.h"
#include "http/server/http_types.h"
#include "http/v1/api_routes.h"
#include "projections/job_commands.h"

namespace jobtrail::http {

// 201 {"job_id", "status", "version", "status_url"} + Location and
// X-Log-Position (the enqueued event's position, for ?min_position); an
// idempotent repeat answers the same, with "Idempotent-Replayed: true".
HttpResponse ExecuteEnqueue(ApiContext& context, EnqueueRequest request);

// 200 {"job_id", "status", "version", "position", "events_appended",
// "status_url"} + ETag.
HttpResponse ExecuteAppend(ApiContext& context, AppendRequest request);

// The answers of ExecuteEnqueue and ExecuteAppend for a write the store
// already ran (POST /v1/batch runs them all in one JobStore::WriteMany).
// `request` is the append as sent (its job, expected version and events).
HttpResponse RenderEnqueue(ApiContext& context, const Result<WriteOutcome>& outcome);
HttpResponse RenderAppend(ApiContext& context, const Result<WriteOutcome>& outcome,
                          const AppendRequest& request);

std::string StatusUrl(std::string_view job_id);

// An enqueue's callback_url, if any, by ApiContext::check_callback_url
// (400 INVALID_INPUT naming the field when there is no such check: the
// server sends no webhooks). `field` is the field's path in the body.
ApiResult<void> CheckCallbackUrl(ApiContext& context, const EnqueueRequest& request,
                                 std::string_view field);

// Who a write is recorded as (the events' actor). An admin's X-Actor is
// taken as given (operators and import tools write for others); anyone else
// writes as its own subject, and its X-Actor only names which of its
// instances: "svc/worker-7". Without credentials (--insecure-no-auth):
// X-Actor, else "api". Errors: 400 INVALID_HEADER for a malformed X-Actor.
ApiResult<std::string> ActorOf(const HttpRequest& request);
// The same rule for a name given otherwise (a claim's worker_id).
std::string ActorNamed(const Principal& principal, std::optional<std::string> named);

}  // namespace jobtrail::http
