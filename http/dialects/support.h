#pragma once
// What the seed dialects (http/dialect_*.cc) share, so that each dialect is
// only its mapping: a status vocabulary table, route binding with the
// dialect's own error body (status codes still come from error_mapping.h),
// the mount prefix, and a few JSON helpers for the seeds' shapes.
//
// Dialects hold no state and reach data only through JobStore.
#include <rapidjson/document.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/job_status.h"
#include "http/dialects/options.h"
#include "http/security/route_access.h"
#include "http/server/api_error.h"
#include "http/server/http_types.h"
#include "http/server/json_writer.h"
#include "http/v1/api_routes.h"
#include "projections/stats_snapshot.h"

namespace jobtrail::http {

// A seed's words for jobtrail's states. Several states may share a word
// (000 calls both pending and retrying "pending"); filtering by a word
// selects every state that carries it.
struct StatusVocabulary {
  std::array<std::string_view, kStatusSlots> word;  // indexed by int(JobStatus)

  std::string_view Word(JobStatus s) const { return word[size_t(s)]; }
  // The states named `w` (empty when the word is not in the vocabulary).
  std::vector<JobStatus> StatesNamed(std::string_view w) const;
  // Sums a per-state counter (StatsSnapshot::by_status, ...) by word.
  uint64_t Sum(const std::array<uint64_t, kStatusSlots>& per_state,
               std::string_view w) const;
};

// A dialect's route: the handler's errors, and the request gate's refusals
// on it (401, 403, 404, 429), are written by the dialect's ErrorBody into
// the seed's error body, with the status code HttpStatusFor gives.
struct DialectRoute {
  using Handler = ApiResult<HttpResponse> (*)(ApiContext&, const DialectOptions&,
                                              const HttpRequest&);
  using ErrorBody = ErrorBodyRenderer;
  std::string_view method;
  std::string_view path;  // the seed's path, before the prefix
  Handler handler;
  // Who may call it and how it is rate limited (route_access.h); registered
  // with the prefixed pattern in ApiContext::route_access for the gate.
  RouteAccess access = RouteAccess::kAdmin;
  RateClass rate = RateClass::kGeneral;
  std::string_view job_param = "id";  // kPoll: the parameter naming the job
  RateSubjectFn rate_subject = nullptr;  // what a call is about, if not that
};
void MountDialect(Router& router, ApiContext& context, const DialectOptions& options,
                  DialectRoute::ErrorBody render_error,
                  std::initializer_list<DialectRoute> routes);

// A dialect route's access: `open` when the operator made the seed public
// (DialectOptions::public_dialects), `secured` otherwise.
inline RouteAccess DialectAccess(const DialectOptions& options, std::string_view seed,
                             RouteAccess secured, RouteAccess open = RouteAccess::kPublic) {
  return options.IsPublic(seed) ? open : secured;
}

// May the caller see a job of the dialect (owner `owner`)? On a public
// seed's open routes anyone may (the seed's internal-use behaviour);
// otherwise the rules of /v1 (Principal::MayRead): a reader its own jobs, a
// share link its one job, workers and admins any. A job the caller may not
// see must answer exactly as a missing one.
bool CallerMayRead(const HttpRequest& request, bool public_seed, std::string_view job_id,
                   std::string_view owner);
// Limits a dialect's list to the caller's own jobs as /v1 does (admins see
// all), unless the seed is public. False: the answer is empty.
bool RestrictToCaller(const HttpRequest& request, bool public_seed, ListQuery& query);

// An error whose message is exactly what the seed shows.
ApiError DialectError(Code code, std::string reason, std::string message,
                      std::string details_json = {});

// A JSON number as JavaScript would print it: integral values without a
// fraction (3, not 3.0), others rounded to `digits` decimals.
JsonWriter& JsNumber(JsonWriter& w, double v, int digits = 2);
// An RFC 3339 time, or null.
JsonWriter& TimeOrNull(JsonWriter& w, std::string_view key, std::optional<Millis> t);

// Parses a stored status document (projections/job_json.h) for fields a
// row needs; the read model wrote it, so a parse failure is kInternal.
ApiResult<void> ParseStatusDocument(std::string_view json, rapidjson::Document& doc);
// Field accessors on a parsed status document: "" / nullopt when absent
// or null.
std::string_view DocString(const rapidjson::Value& obj, std::string_view key);
std::optional<int64_t> DocInt(const rapidjson::Value& obj, std::string_view key);
std::optional<Millis> DocTime(const rapidjson::Value& obj, std::string_view key);
const rapidjson::Value* DocMember(const rapidjson::Value& obj, std::string_view key);

// The value of a path parameter (router guarantees it is present).
const std::string& PathParam(const HttpRequest& request, std::string_view name);

}  // namespace jobtrail::http
