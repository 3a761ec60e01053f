// Seed 000's vocabulary over jobtrail's read models. Status words:
//   pending    <- pending, retrying (waiting for its next attempt)
//   processing <- running
//   completed  <- completed
//   failed     <- failed, cancelled (the seed has no cancelled state)
// Error artifacts of kind "screenshot" give screenshotUrl/Key, of kind
// "page_source" pageSourceUrl. customerData is the payload's "formData"
// object (or the payload itself when it has none).
// The dialect sees the jobs of one queue (DialectOptions::forms_queue): its
// list, counts and captcha lookups never reach another queue's jobs.
#include "http/dialects/forms_000.h"

#include <charconv>
#include <fmt/format.h>

#include <cctype>

#include <cmath>

#include "http/dialects/support.h"
#include "http/server/error_mapping.h"
#include "http/v1/query_parsing.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

constexpr StatusVocabulary kWords{
    {"", "pending", "processing", "pending", "completed", "failed", "failed"}};
constexpr std::string_view kStatusWords[] = {"pending", "processing", "completed", "failed"};
constexpr size_t kDefaultLimit = 50;
constexpr size_t kMaxLimit = 100;
constexpr std::string_view kSeed = "000";

std::string ErrorBody(const ApiError& e, const HttpRequest&, Millis) {
  JsonWriter w;
  // Missing or wrong credentials: the body of the seed's "For Production"
  // authenticateRequest (which reads the x-api-key header, accepted here).
  if (e.error.code == Code::kUnauthenticated) {
    return w.StartObject().Field("error", "Unauthorized").EndObject().Take();
  }
  w.StartObject().Field("success", false);
  if (HttpStatusFor(e.error) >= 500) {
    // The seed's 500 body: a fixed message, the details in "error".
    w.Field("message", "Internal server error").Field("error", e.error.message);
  } else {
    w.Field("message", e.error.message);
    if (e.error.reason == "JOB_NOT_FOUND") w.RawField("captchaId", e.details_json);
  }
  return w.EndObject().Take();
}

bool IsObjectId(std::string_view id) {
  if (id.size() != 24) return false;
  for (char c : id) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

const Artifact* FindArtifact(const ErrorEntry& e, std::string_view kind) {
  for (const Artifact& a : e.artifacts) {
    if (a.kind == kind && !a.url.empty()) return &a;
  }
  return nullptr;
}

// Absent fields are left out, as the seed's stored documents do.
void ErrorLog(JsonWriter& w, const ErrorEntry& e) {
  w.StartObject();
  w.Field("timestamp", FormatTime(e.timestamp));
  w.Field("attemptNumber", int64_t{e.attempt});
  w.Field("errorMessage", e.message);
  if (!e.error_type.empty()) w.Field("errorType", e.error_type);
  if (!e.stack.empty()) w.Field("errorStack", e.stack);
  if (const Artifact* shot = FindArtifact(e, "screenshot")) {
    w.Field("screenshotUrl", shot->url);
    if (!shot->key.empty()) w.Field("screenshotKey", shot->key);
  }
  if (const Artifact* page = FindArtifact(e, "page_source")) {
    w.Field("pageSourceUrl", page->url);
  }
  if (!e.stage.empty()) w.Field("stage", e.stage);
  w.EndObject();
}

// The latest error of one kind (by type or by stage), or null.
void LastErrorOf(JsonWriter& w, std::string_view key, const JobView& job,
                 std::string_view type, std::string_view stage) {
  w.Key(key);
  for (auto it = job.errors.rbegin(); it != job.errors.rend(); ++it) {
    if (it->error_type == type || it->stage == stage) {
      ErrorLog(w, *it);
      return;
    }
  }
  w.Null();
}

void CustomerData(JsonWriter& w, const std::string& payload_json) {
  rapidjson::Document payload;
  payload.Parse(payload_json.data(), payload_json.size());
  const rapidjson::Value* form = nullptr;
  if (!payload.HasParseError() && payload.IsObject()) {
    form = DocMember(payload, "formData");
    if (form == nullptr || !form->IsObject()) form = &payload;
  }
  w.Key("customerData").StartObject();
  for (std::string_view key : {"firstName", "lastName", "mobile", "email"}) {
    const std::string_view v = form ? DocString(*form, key) : std::string_view();
    w.StringOrNull(key, v);
  }
  w.EndObject();
}

std::string RenderStatus(const JobView& job) {
  JsonWriter w;
  w.StartObject().Field("success", true).Key("data").StartObject();
  w.Field("captchaId", job.spec.external_ref);
  w.Field("jobId", job.job_id);
  w.Field("status", kWords.Word(job.status));
  w.Field("attempts", int64_t{job.attempts});
  w.Field("maxAttempts", int64_t{job.spec.max_attempts});
  w.Field("currentAttempt", int64_t{job.attempts});
  w.Field("retriesLeft", int64_t{job.RetriesLeft()});
  w.Field("hasErrors", !job.errors.empty());
  w.Field("errorCount", uint64_t{job.errors.size()});
  w.Key("errorLogs").StartArray();
  for (const ErrorEntry& e : job.errors) ErrorLog(w, e);
  w.EndArray();
  const ErrorEntry* last = job.LastError();
  w.StringOrNull("lastError", last ? std::string_view(last->message) : std::string_view());
  TimeOrNull(w, "lastErrorTimestamp",
             last ? std::optional<Millis>(last->timestamp) : std::nullopt);
  w.Key("finalError");
  if (job.final_error) {
    w.StartObject()
        .Field("timestamp", FormatTime(job.final_error->timestamp))
        .Field("errorMessage", job.final_error->reason)
        .StringOrNull("errorType", job.final_error->error_type)
        .StringOrNull("errorStack", job.final_error->stack)
        .Field("attemptNumber", int64_t{job.attempts})
        .EndObject();
  } else {
    w.Null();
  }
  LastErrorOf(w, "lastPostSubmissionError", job, "PostSubmissionError", "post-submission");
  LastErrorOf(w, "lastModalError", job, "ModalError", "modal-filling");
  w.Key("screenshotUrls").StartArray();
  for (const ErrorEntry& e : job.errors) {
    for (const Artifact& a : e.artifacts) {
      if (a.kind == "screenshot" && !a.url.empty()) w.String(a.url);
    }
  }
  w.EndArray();
  TimeOrNull(w, "createdAt", job.created_at);
  TimeOrNull(w, "startedAt", job.started_at);
  TimeOrNull(w, "completedAt", job.completed_at);
  TimeOrNull(w, "failedAt", job.failed_at ? job.failed_at : job.cancelled_at);
  TimeOrNull(w, "lastAttemptAt", job.last_attempt_at);
  TimeOrNull(w, "nextRetryAt", job.next_retry_at);
  CustomerData(w, job.spec.payload_json);
  w.EndObject().EndObject();
  return w.Take();
}

// The newest job of the form queue with this captcha id that the caller
// may see; nullopt when there is none (or only other owners').
ApiResult<std::optional<JobView>> FindForm(ApiContext& ctx, const DialectOptions& options,
                                           const HttpRequest& request,
                                           const std::string& captcha_id) {
  const bool open = options.IsPublic(kSeed);
  ListQuery q;
  q.queue = options.forms_queue;
  q.external_ref = captcha_id;
  q.limit = 1;
  // A reader looks among its own jobs, so that another owner's job with the
  // same captcha id neither hides nor reveals its own. Workers and admins
  // (and a share link, checked below) look at the newest.
  const Principal& p = request.principal;
  if (!open && p.authenticated() && !p.share_link() && p.role == Role::kReader) {
    q.owner = p.subject;
  }
  BOOST_OUTCOME_TRY(page, ctx.reads->List(q));
  if (page.items_json.empty()) return std::optional<JobView>();
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseStatusDocument(page.items_json.front(), doc));
  const std::string id(DocString(doc, "id"));
  auto job = ctx.reads->LoadJob(id, std::nullopt);
  if (!job) {
    if (job.error().code == Code::kNotFound) return std::optional<JobView>();
    return job.error();
  }
  if (job.value().spec.queue != options.forms_queue ||
      !CallerMayRead(request, open, id, job.value().spec.owner)) {
    return std::optional<JobView>();
  }
  return std::optional<JobView>(std::move(job).value());
}

ApiResult<HttpResponse> GetJobStatus(ApiContext& ctx, const DialectOptions& options,
                                     const HttpRequest& request) {
  const std::string& captcha_id = PathParam(request, "captchaId");
  if (!IsObjectId(captcha_id)) {
    return DialectError(Code::kInvalidArgument, "INVALID_INPUT", "Invalid captcha ID format");
  }
  BOOST_OUTCOME_TRY(job, FindForm(ctx, options, request, captcha_id));
  // An ObjectId's hex is case-insensitive: a job stored under the lower or
  // the upper-case spelling is found by either.
  for (auto convert : {::tolower, ::toupper}) {
    if (job) break;
    std::string spelled = captcha_id;
    for (char& c : spelled) c = char(convert(static_cast<unsigned char>(c)));
    if (spelled == captcha_id) continue;
    BOOST_OUTCOME_TRY(again, FindForm(ctx, options, request, spelled));
    job = std::move(again);
  }
  if (!job) {
    return DialectError(Code::kNotFound, "JOB_NOT_FOUND", "Job not found for this captcha ID",
                        JsonQuote(captcha_id));
  }
  return JsonResponse(200, RenderStatus(*job));
}

ApiResult<ListQuery> ParseQuery(const HttpRequest& request, std::string& status_word) {
  ListQuery q;
  // An empty status= filters nothing, as the seed's `if (status)` reads it.
  if (const std::string* status = request.Query("status"); status && !status->empty()) {
    q.statuses = kWords.StatesNamed(*status);
    if (q.statuses.empty()) {
      return DialectError(
          Code::kInvalidArgument, "INVALID_PARAMETER",
          "Invalid status. Must be one of: pending, processing, completed, failed");
    }
    status_word = *status;
  }
  // The seed reads limit and skip as parseInt(x) || default and refuses
  // only an unknown status: 0, "abc" or a missing limit is the default 50,
  // above 100 is 100; a skip that is not a number, or negative, is 0.
  auto number = [&](std::string_view name) -> int64_t {
    const std::string* text = request.Query(name);
    if (text == nullptr) return 0;
    int64_t v = 0;
    const char* end = text->data() + text->size();
    const char* begin = text->data() + (!text->empty() && (*text)[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(begin, end, v);
    return ec == std::errc() && ptr != begin ? v : 0;  // parseInt's leading digits
  };
  const int64_t limit = number("limit");
  q.limit = limit <= 0 ? kDefaultLimit : size_t(std::min<int64_t>(limit, kMaxLimit));
  q.skip = size_t(std::max<int64_t>(0, number("skip")));
  // The seed sets no maximum; skipping walks the index, so past a ceiling
  // a client narrows the list instead (issue 11, item 5b).
  if (q.skip > kMaxListSkip) {
    return DialectError(Code::kInvalidArgument, "INVALID_PARAMETER",
                        fmt::format("Invalid skip: must be at most {}; narrow the list with "
                                    "status, or page from the other end with sortOrder",
                                    kMaxListSkip));
  }
  // The seed refuses only an unknown status: another sort field orders by
  // createdAt (the default), any order but "asc" is descending.
  if (const std::string* sort = request.Query("sortBy"); sort && *sort == "updatedAt") {
    q.sort = SortField::kUpdated;
  }
  if (const std::string* order = request.Query("sortOrder")) q.descending = *order != "asc";
  return q;
}

ApiResult<void> SummaryRow(JsonWriter& w, const std::string& json) {
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseStatusDocument(json, doc));
  const auto status = ParseStatus(DocString(doc, "status")).value_or(JobStatus::kNone);
  const rapidjson::Value* payload = DocMember(doc, "payload");
  const rapidjson::Value* form = payload ? DocMember(*payload, "formData") : nullptr;
  if (form == nullptr || !form->IsObject()) form = payload;
  std::string name;
  if (form != nullptr) {
    name = fmt::format("{} {}", DocString(*form, "firstName"), DocString(*form, "lastName"));
    if (name == " ") name.clear();
  }
  const rapidjson::Value* last = DocMember(doc, "last_error");
  w.StartObject()
      .Field("jobId", DocString(doc, "id"))
      .StringOrNull("captchaId", DocString(doc, "external_ref"))
      .Field("status", kWords.Word(status))
      .Field("attempts", DocInt(doc, "attempts").value_or(0))
      .StringOrNull("customerName", name)
      .StringOrNull("mobile", form ? DocString(*form, "mobile") : std::string_view())
      .Field("hasErrors", DocInt(doc, "error_count").value_or(0) > 0)
      .Field("errorCount", DocInt(doc, "error_count").value_or(0))
      .StringOrNull("lastError", last ? DocString(*last, "message") : std::string_view());
  TimeOrNull(w, "createdAt", DocTime(doc, "created_at"));
  TimeOrNull(w, "completedAt", DocTime(doc, "completed_at"));
  auto failed_at = DocTime(doc, "failed_at");
  TimeOrNull(w, "failedAt", failed_at ? failed_at : DocTime(doc, "cancelled_at"));
  w.EndObject();
  return boost::outcome_v2::success();
}

ApiResult<HttpResponse> ListJobs(ApiContext& ctx, const DialectOptions& options,
                                 const HttpRequest& request) {
  std::string status_word;
  BOOST_OUTCOME_TRY(query, ParseQuery(request, status_word));
  query.queue = options.forms_queue;
  ListPage page;
  if (RestrictToCaller(request, options.IsPublic(kSeed), query)) {
    BOOST_OUTCOME_TRY(listed, ctx.reads->List(query));
    page = std::move(listed);
  }
  JsonWriter w;
  w.StartObject().Field("success", true).Key("data").StartArray();
  for (const std::string& json : page.items_json) {
    BOOST_OUTCOME_TRYV(SummaryRow(w, json));
  }
  const uint64_t returned = page.items_json.size();
  const bool has_more = query.skip + returned < page.total;
  w.EndArray().Key("pagination").StartObject();
  w.Field("total", page.total)
      .Field("limit", uint64_t{query.limit})
      .Field("skip", uint64_t{query.skip})
      .Field("returned", returned)
      .Field("hasMore", has_more);
  w.Key("nextSkip");
  if (has_more) {
    w.Uint(query.skip + returned);
  } else {
    w.Null();
  }
  w.EndObject().Key("filter").StartObject();
  if (!status_word.empty()) w.Field("status", status_word);
  w.EndObject().EndObject();
  return JsonResponse(200, w.Take());
}

// The form queue's counts, per state, with the attempts they took: the
// store's stats read model is store-wide, so the queue's jobs are counted
// from its list (a page of status documents at a time).
ApiResult<StatsSnapshot> QueueStats(JobReads& store, const std::string& queue) {
  StatsSnapshot stats;
  ListQuery q;
  q.queue = queue;
  q.limit = 1000;
  for (;;) {
    BOOST_OUTCOME_TRY(page, store.List(q));
    for (const std::string& json : page.items_json) {
      rapidjson::Document doc;
      BOOST_OUTCOME_TRYV(ParseStatusDocument(json, doc));
      const auto status = ParseStatus(DocString(doc, "status")).value_or(JobStatus::kNone);
      ++stats.total;
      ++stats.by_status[size_t(status)];
      stats.attempts_by_status[size_t(status)] += uint64_t(DocInt(doc, "attempts").value_or(0));
    }
    if (!page.has_more || page.next_cursor.empty()) break;
    q.cursor = page.next_cursor;
  }
  return stats;
}

ApiResult<HttpResponse> GetStats(ApiContext& ctx, const DialectOptions& options,
                                 const HttpRequest&) {
  BOOST_OUTCOME_TRY(stats, QueueStats(*ctx.reads, options.forms_queue));
  JsonWriter w;
  w.StartObject().Field("success", true).Key("data").StartObject();
  w.Field("total", stats.total).Key("byStatus").StartObject();
  for (std::string_view word : {"completed", "failed", "pending", "processing"}) {
    const uint64_t count = kWords.Sum(stats.by_status, word);
    const uint64_t attempts = kWords.Sum(stats.attempts_by_status, word);
    w.Key(word).StartObject().Field("count", count).Key("avgAttempts");
    JsNumber(w, count == 0 ? 0.0 : double(attempts) / double(count));
    w.EndObject();
  }
  w.EndObject();
  // The seed's rate: completed among all jobs, as a whole percent.
  const uint64_t completed = kWords.Sum(stats.by_status, "completed");
  const double rate = stats.total == 0 ? 0 : 100.0 * double(completed) / double(stats.total);
  w.Field("successRate", fmt::format("{}%", int64_t(std::llround(rate))));
  w.Key("metrics").StartObject();
  for (std::string_view word : kStatusWords) {
    w.Field(word, kWords.Sum(stats.by_status, word));
  }
  w.EndObject().EndObject().EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace

void AddFormsDialect000(Router& router, ApiContext& context, const DialectOptions& options) {
  // The seed documents no authentication ("suitable for internal use") and
  // suggests an x-api-key for production: credentials by default (a reader
  // sees its own jobs; the stats are the whole queue's, so an admin's),
  // anyone with --public-dialect 000.
  const auto access = [&](RouteAccess secured) {
    return DialectAccess(options, kSeed, secured);
  };
  MountDialect(router, context, options, ErrorBody,
               {{"GET", "/api/job-status/{captchaId}", GetJobStatus,
                 access(RouteAccess::kCaller), RateClass::kPoll, "captchaId"},
                {"GET", "/api/jobs", ListJobs, access(RouteAccess::kListRead),
                 RateClass::kDashboard},
                {"GET", "/api/jobs/stats", GetStats, access(RouteAccess::kAdmin),
                 RateClass::kDashboard}});
}

}  // namespace jobtrail::http
