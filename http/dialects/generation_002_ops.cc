// Seed 002's monitoring and maintenance routes over jobtrail's health and
// stats read models and JobStore::RunMaintenance. The seed's figures:
//   processed = due retries + due delayed jobs + expired leases of the pass
//   errors    = jobs the pass failed (out of attempts)
//   skipped   = 0 (a pass never skips a due job)
// Rates are percentages (0..100), times milliseconds.
// The seed's processor runs jobs itself; jobtrail's workers do, and a pass
// only promotes, expires and cleans. So the pass is always whole: maxJobs,
// jobTypes and forceProcessing are accepted (validated) but do not narrow
// it; filteredTypes echoes jobTypes, and specificJob.success says whether
// that job exists.
#include <rapidjson/schema.h>

#include <fmt/format.h>

#include <chrono>

#include "http/dialects/generation_002.h"
#include "http/dialects/support.h"
#include "http/security/webhook_secret.h"
#include "http/server/json_reader.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

// What the seed's configuration block reports (jobtrail has no separate
// processor: workers claim jobs; these describe the maintenance ticker).
constexpr int64_t kProcessingIntervalMs = 30'000;
constexpr int64_t kMaxConcurrentJobs = 10;
constexpr int64_t kJobTimeoutMs = 30 * 60'000;
constexpr int64_t kDefaultCleanupDays = 7;

constexpr std::string_view kProcessSchema = R"({"type":"object","properties":{
  "maxJobs":{"type":"integer","minimum":1},"specificJobId":{"type":"string"},
  "cleanup":{"type":"boolean"},"cleanupDays":{"type":"integer","minimum":0},
  "forceProcessing":{"type":"boolean"},"emergencyMode":{"type":"boolean"},
  "healthCheck":{"type":"boolean"},
  "jobTypes":{"type":"array","items":{"type":"string"}}}})";

double Percent(double part, double whole) { return whole <= 0 ? 0 : 100.0 * part / whole; }

uint64_t FinishedLastDay(const StatsSnapshot& s, Millis now) {
  uint64_t n = 0;
  for (const auto& [hour, count] : s.finished_per_hour) {
    if (hour >= now - 24 * 3'600'000) n += count;
  }
  return n;
}

uint64_t Pending(const StatsSnapshot& s) {
  return s.by_status[size_t(JobStatus::kPending)] + s.by_status[size_t(JobStatus::kRetrying)];
}
uint64_t InState(const StatsSnapshot& s, JobStatus st) { return s.by_status[size_t(st)]; }

void Num(JsonWriter& w, std::string_view key, double v) { JsNumber(w.Key(key), v); }

void Features(JsonWriter& w, std::string_view key) {
  w.Key(key)
      .StartObject()
      .Field("autoProcessing", true)
      .Field("priorityProcessing", true)
      .Field("metricsCollection", true)
      .Field("healthChecks", true)
      .EndObject();
}

void Configuration(JsonWriter& w, std::string_view key) {
  w.Key(key)
      .StartObject()
      .Field("environment", "production")
      .Field("autoProcessing", true)
      .Field("processingInterval", kProcessingIntervalMs)
      .Field("maxConcurrentJobs", kMaxConcurrentJobs)
      .Field("jobTimeout", kJobTimeoutMs)
      .Field("maxRetries", int64_t{kGenerationMaxRetries});
  w.Key("features")
      .StartObject()
      .Field("priorityProcessing", true)
      .Field("jobCancellation", true)
      .Field("metricsCollection", true)
      .Field("healthChecks", true)
      .EndObject()
      .EndObject();
}

void JobStatistics(JsonWriter& w, std::string_view key, const StatsSnapshot& s,
                   const HealthReport& h) {
  w.Key(key)
      .StartObject()
      .Field("totalJobs", s.total)
      .Field("pendingJobs", Pending(s))
      .Field("processingJobs", InState(s, JobStatus::kRunning))
      .Field("completedJobs", InState(s, JobStatus::kCompleted))
      .Field("failedJobs", InState(s, JobStatus::kFailed));
  Num(w, "averageProcessingTime", s.processing.mean_ms);
  Num(w, "successRate", 100.0 * s.SuccessRate());
  w.Field("queueDepth", h.queue_depth);
  if (h.oldest_pending_age) {
    w.Field("oldestPendingJob", FormatTime(h.now - *h.oldest_pending_age));
  }
  w.EndObject();
}

void Strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.Key(key).StartArray();
  for (const std::string& s : v) w.String(s);
  w.EndArray();
}

std::string_view HealthMessage(HealthLevel level) {
  switch (level) {
    case HealthLevel::kHealthy: return "All systems operational";
    case HealthLevel::kWarning: return "System operational with warnings";
    case HealthLevel::kCritical: return "System requires immediate attention";
  }
  return "";
}

ApiResult<HttpResponse> Health(ApiContext& ctx, const DialectOptions&, const HttpRequest&) {
  const HealthReport h = ctx.reads->Health();
  const StatsSnapshot s = ctx.reads->Stats();
  const std::string now = FormatTime(h.now);
  JsonWriter w;
  w.StartObject()
      .Field("status", HealthLevelName(h.level))
      .Field("message", HealthMessage(h.level))
      .Field("timestamp", now);
  w.Key("systemStatus")
      .StartObject()
      .Field("monitor", true)
      .Field("manager", true)
      .Field("config", true)
      .Field("timestamp", now)
      .EndObject();
  Configuration(w, "configSummary");
  w.Key("metrics").StartObject().Field("queueDepth", h.queue_depth);
  Num(w, "processingCapacity",
      Percent(double(kMaxConcurrentJobs) - double(std::min<uint64_t>(h.running, kMaxConcurrentJobs)),
              double(kMaxConcurrentJobs)));
  Num(w, "successRate", 100.0 * s.SuccessRate());
  Num(w, "averageProcessingTime", s.processing.mean_ms);
  w.Field("jobsPerHour", h.finished_last_hour);
  Num(w, "errorRate", 100.0 * h.error_rate);
  w.EndObject();

  w.Key("statistics").StartObject();
  JobStatistics(w, "jobs", s, h);
  w.Key("byType").StartObject();
  for (const auto& [type, t] : s.by_type) {
    const uint64_t done = t.by_status[size_t(JobStatus::kCompleted)];
    const uint64_t failed = t.by_status[size_t(JobStatus::kFailed)];
    w.Key(type).StartObject().Field("total", t.total).Field("completed", done).Field("failed",
                                                                                      failed);
    Num(w, "averageTime", t.processing.mean_ms);
    Num(w, "successRate", Percent(double(done), double(done + failed)));
    w.EndObject();
  }
  w.EndObject();
  uint64_t attempts = 0;
  for (uint64_t a : s.attempts_by_status) attempts += a;
  uint64_t started_jobs = s.total - Pending(s);
  w.Key("performance").StartObject().Field("jobsPerHour", h.finished_last_hour);
  w.Field("jobsPerDay", FinishedLastDay(s, h.now));
  Num(w, "peakProcessingTime", s.processing.p99_ms);
  Num(w, "resourceUtilization", Percent(double(h.running), double(kMaxConcurrentJobs)));
  w.Field("errorFrequency", h.errors_last_hour);
  Num(w, "retryRate", Percent(double(attempts > started_jobs ? attempts - started_jobs : 0),
                              double(attempts)));
  w.EndObject().EndObject();

  w.Key("health").StartObject().Field("status", HealthLevelName(h.level));
  Strings(w, "alerts", h.alerts);
  Strings(w, "recommendations", h.recommendations);
  w.Field("stuckJobsCount", h.stuck).EndObject();
  w.Key("operational")
      .StartObject()
      .Field("autoProcessingEnabled", true)
      .Field("metricsCollectionEnabled", true)
      .Field("processingInterval", kProcessingIntervalMs)
      .Field("maxConcurrentJobs", kMaxConcurrentJobs)
      .EndObject();
  w.EndObject();
  return JsonResponse(200, w.Take());
}

ApiResult<HttpResponse> ProcessingStatus(ApiContext& ctx, const DialectOptions&,
                                         const HttpRequest&) {
  const HealthReport h = ctx.reads->Health();
  const StatsSnapshot s = ctx.reads->Stats();
  JsonWriter w;
  w.StartObject()
      .Field("timestamp", FormatTime(h.now))
      .Field("healthy", h.level != HealthLevel::kCritical);
  w.Key("worker")
      .StartObject()
      .Field("isRunning", h.running > 0)
      .Field("processingInterval", kProcessingIntervalMs)
      .Field("maxRunTime", kJobTimeoutMs)
      .Key("processorStats")
      .StartObject()
      .Field("running", h.running)
      .Field("stuck", h.stuck)
      .EndObject()
      .EndObject();
  w.Key("queue")
      .StartObject()
      .Field("queueDepth", h.queue_depth)
      .Field("pending", InState(s, JobStatus::kPending))
      .Field("retrying", InState(s, JobStatus::kRetrying))
      .Field("oldestPendingAgeMs", h.oldest_pending_age)
      .EndObject();
  JobStatistics(w, "statistics", s, h);
  Configuration(w, "configuration");
  Features(w, "features");
  w.EndObject();
  return JsonResponse(200, w.Take());
}

struct PassRequest {
  rapidjson::Document body;
  std::optional<int64_t> cleanup_days;  // set when cleanup was asked for
};

ApiResult<PassRequest> ParsePass(std::string_view text) {
  PassRequest r;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    r.body.SetObject();
  } else if (auto parsed = ParseJsonBody(text, r.body); !parsed) {
    return DialectError(Code::kInvalidArgument, "INVALID_INPUT",
                        fmt::format("Invalid input: {}", parsed.error().error.message));
  }
  static const auto* schema = [] {
    rapidjson::Document d;
    d.Parse(kProcessSchema.data(), kProcessSchema.size());
    return new rapidjson::SchemaDocument(d);
  }();
  rapidjson::SchemaValidator validator(*schema);
  if (!r.body.Accept(validator)) {
    rapidjson::StringBuffer where;
    validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
    return DialectError(Code::kInvalidArgument, "INVALID_INPUT",
                        fmt::format("Invalid input: {} fails the '{}' rule",
                                    where.GetSize() > 2 ? where.GetString() + 2 : "body",
                                    validator.GetInvalidSchemaKeyword()));
  }
  const rapidjson::Value* cleanup = DocMember(r.body, "cleanup");
  if (cleanup != nullptr && cleanup->IsTrue()) {
    r.cleanup_days = DocInt(r.body, "cleanupDays").value_or(kDefaultCleanupDays);
  }
  return r;
}

struct Pass {
  MaintenanceReport report;
  std::string cleanup_error;  // the seed reports a failed cleanup in its body
  uint64_t processed = 0;
  uint64_t errors = 0;
  double seconds = 0;
};

ApiResult<Pass> RunPass(StoreAdmin& store, const PassRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  BOOST_OUTCOME_TRY(report, store.RunMaintenance({}));
  Pass pass;
  pass.report = report;
  if (request.cleanup_days) {
    // A pass of its own, so that its failure is reported in "cleanup" while
    // the processing above stands.
    MaintenanceOptions cleanup;
    cleanup.cleanup_older_than_ms = *request.cleanup_days * 86'400'000;
    auto cleaned = store.RunMaintenance(cleanup);
    if (cleaned) {
      pass.report.cleaned = cleaned.value().cleaned;
    } else {
      pass.cleanup_error = cleaned.error().message;
    }
  }
  pass.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  pass.processed = report.due_retries + report.due_delayed + report.leases_expired;
  pass.errors = report.failed;
  return pass;
}

// The fields POST /api/jobs/process and the cron route share.
void PassFields(JsonWriter& w, JobReads& store, const PassRequest& request, const Pass& pass,
                bool with_time) {
  const HealthReport h = store.Health();
  const StatsSnapshot s = store.Stats();
  w.Field("processed", pass.processed).Field("errors", pass.errors).Field("skipped", 0);
  if (request.cleanup_days && !pass.cleanup_error.empty()) {
    w.Key("cleanup")
        .StartObject()
        .Field("error", "Cleanup failed")
        .Field("details", pass.cleanup_error)
        .EndObject();
  } else if (request.cleanup_days) {
    w.Key("cleanup")
        .StartObject()
        .Field("cleaned", pass.report.cleaned)
        .Field("olderThanDays", *request.cleanup_days)
        .EndObject();
  }
  w.Key("queueStatus")
      .StartObject()
      .Field("queueDepth", h.queue_depth)
      .Field("running", h.running)
      .Field("stuck", h.stuck)
      .Field("leasesExpired", pass.report.leases_expired)
      .Field("retried", pass.report.retried)
      .EndObject();
  JobStatistics(w, "statistics", s, h);
  const double error_rate = Percent(double(pass.errors), double(pass.processed));
  w.Key("performance").StartObject();
  if (with_time) Num(w, "processingTime", pass.seconds * 1000.0);
  Num(w, "processingRate", pass.seconds > 0 ? double(pass.processed) / pass.seconds : 0);
  Num(w, "errorRate", error_rate);
  Num(w, "efficiency", pass.processed == 0 ? 100.0 : 100.0 - error_rate);
  w.EndObject();
  Strings(w, "recommendations", h.recommendations);
}

ApiResult<HttpResponse> ProcessNow(ApiContext& ctx, const DialectOptions&,
                                   const HttpRequest& request) {
  BOOST_OUTCOME_TRY(pass_request, ParsePass(request.body));
  BOOST_OUTCOME_TRY(pass, RunPass(*ctx.admin, pass_request));
  JsonWriter w;
  w.StartObject().Field("timestamp", FormatTime(ctx.reads->clock().Now()));
  PassFields(w, *ctx.reads, pass_request, pass, /*with_time=*/false);
  Configuration(w, "configuration");
  const std::string_view specific = DocString(pass_request.body, "specificJobId");
  if (!specific.empty()) {
    w.Key("specificJob")
        .StartObject()
        .Field("jobId", specific)
        .Field("success", bool(ctx.reads->Status(specific)))
        .EndObject();
  }
  if (const rapidjson::Value* types = DocMember(pass_request.body, "jobTypes")) {
    w.RawField("filteredTypes", SerializeJson(*types));
  }
  w.EndObject();
  return JsonResponse(200, w.Take());
}

std::string_view Provider(const HttpRequest& request) {
  if (request.Header("x-vercel-signature") || request.Header("x-vercel-cron")) return "vercel";
  if (request.Header("x-github-token")) return "github";
  return "webhook";
}

// The webhook limits are per provider (and address).
std::string ProviderSubject(const HttpRequest& request) { return std::string(Provider(request)); }

// The seed: x-webhook-secret, "OR provider-specific headers": GitHub's
// x-github-token carrying the same secret, Vercel's x-vercel-signature
// (HMAC-SHA1 of the body under it).
bool CronCallerProven(const HttpRequest& request, std::string_view secret) {
  if (auto given = request.Header("x-webhook-secret")) return WebhookHeaderMatches(given, secret);
  if (auto token = request.Header("x-github-token")) return WebhookHeaderMatches(token, secret);
  return WebhookSignatureMatches(request.Header("x-vercel-signature"), request.body, secret);
}

ApiResult<HttpResponse> CronProcess(ApiContext& ctx, const DialectOptions&,
                                    const HttpRequest& request) {
  if (!CronCallerProven(request, ctx.webhook_secret)) {
    return DialectError(Code::kUnauthenticated, "UNAUTHORIZED", "Invalid webhook secret");
  }
  BOOST_OUTCOME_TRY(pass_request, ParsePass(request.body));
  const rapidjson::Value* emergency = DocMember(pass_request.body, "emergencyMode");
  const rapidjson::Value* health_check = DocMember(pass_request.body, "healthCheck");
  JsonWriter w;
  w.StartObject()
      .Field("timestamp", FormatTime(ctx.reads->clock().Now()))
      .Field("provider", Provider(request));
  if (health_check != nullptr && health_check->IsTrue()) {
    const HealthReport h = ctx.reads->Health();
    w.Key("healthCheck")
        .StartObject()
        .Field("healthy", h.level != HealthLevel::kCritical)
        .Field("message", HealthMessage(h.level))
        .EndObject();
  }
  BOOST_OUTCOME_TRY(pass, RunPass(*ctx.admin, pass_request));
  w.Field("emergencyMode", emergency != nullptr && emergency->IsTrue());
  PassFields(w, *ctx.reads, pass_request, pass, /*with_time=*/true);
  w.EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace

// The process routes are admin-only although the seed calls their
// authentication "optional (recommended for production)": they make the
// store act, and jobtrail is production. The cron route proves its caller
// with the webhook secret instead.
void AddGenerationOpsDialect002(Router& router, ApiContext& context,
                                const DialectOptions& options) {
  MountDialect(router, context, options, GenerationErrorBody002,
               // Health's figures are the whole store's (stats and health read
               // models), so it is for admins, like GET /v1/stats, even with
               // --public-dialect 002.
               {{"GET", "/api/jobs/health", Health, RouteAccess::kAdmin},
                {"GET", "/api/jobs/process", ProcessingStatus, RouteAccess::kAdmin},
                {"POST", "/api/jobs/process", ProcessNow, RouteAccess::kAdmin},
                {"POST", "/api/cron/process-jobs", CronProcess, RouteAccess::kSelf,
                 RateClass::kWebhook, "id", ProviderSubject}});
}

}  // namespace jobtrail::http
