// Seed 001's vocabulary over jobtrail. Run status words:
//   RUNNING   <- pending, running, retrying (triggered and not finished)
//   COMPLETED <- completed   FAILED <- failed   CANCELLED <- cancelled
// A log line's related subjects are its "gameServer" and "user" subjects
// (ids); "gameServer.name", "gameServer.status", "user.name" and
// "user.email" subjects fill the embedded objects ("" where not given). A log id is the line's
// number within its run.
#include "http/dialects/worker_runs_001.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "http/dialects/support.h"
#include "http/server/error_mapping.h"
#include "http/v1/query_parsing.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

constexpr StatusVocabulary kWords{
    {"", "RUNNING", "RUNNING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"}};
constexpr size_t kRecentRuns = 50;
constexpr std::string_view kSeed = "001";

struct WorkerJobType {
  std::string_view name;     // WorkerJobType
  std::string_view display;  // the key of GET /v1/jobs/status
  std::string_view cron;
};
constexpr WorkerJobType kSeedTypes[] = {
    {"EXPIRE_SERVERS", "ExpireServers", "0 * * * *"},
    {"DELETE_SERVERS", "DeleteServers", "0 3 * * *"},
    {"SEND_EMAILS", "SendEmails", "*/5 * * * *"},
    {"GENERATE_EMAILS", "GenerateExpiryEmails", "0 8 * * *"},
    {"GENERATE_DELETION_EMAILS", "GenerateDeletionEmails", "0 9 * * *"},
};

// Triggers answer {timestamp, success: false, error}; reads {error}.
std::string ErrorBody(const ApiError& e, const HttpRequest& request, Millis now) {
  JsonWriter w;
  w.StartObject();
  if (request.method == "POST") w.Field("timestamp", FormatTime(now)).Field("success", false);
  return w.Field("error", e.error.message).EndObject().Take();
}

std::string DisplayName(const Schedule& s) {
  return s.spec.display_name.empty() ? s.spec.name : s.spec.display_name;
}

bool IsRegisteredType(const std::vector<ScheduleView>& schedules, std::string_view type) {
  return std::any_of(schedules.begin(), schedules.end(),
                     [&](const ScheduleView& v) { return v.schedule.spec.job_type == type; });
}

int64_t Count(const std::optional<int64_t>& v) { return v.value_or(0); }

// The fields every run shape shares, from the status document.
void RunSummaryFields(JsonWriter& w, const rapidjson::Value& doc) {
  const auto status = ParseStatus(DocString(doc, "status")).value_or(JobStatus::kNone);
  const rapidjson::Value* items = DocMember(doc, "items");
  auto item = [&](std::string_view k) { return items ? Count(DocInt(*items, k)) : 0; };
  auto started = DocTime(doc, "started_at");
  w.Field("id", DocString(doc, "id"))
      .Field("jobType", DocString(doc, "type"))
      .Field("status", kWords.Word(status));
  TimeOrNull(w, "startedAt", started ? started : DocTime(doc, "created_at"));
  TimeOrNull(w, "endedAt", DocTime(doc, "finished_at"));
  w.Field("itemsProcessed", item("processed"))
      .Field("itemsTotal", item("total"))
      .Field("itemsFailed", item("failed"));
  std::string_view error;
  if (const rapidjson::Value* final_error = DocMember(doc, "final_error")) {
    error = DocString(*final_error, "reason");
  } else if (const rapidjson::Value* cancel = DocMember(doc, "cancellation")) {
    error = DocString(*cancel, "reason");
  }
  w.StringOrNull("errorMessage", error);
}

std::string_view Subject(const Labels& subjects, std::string_view key) {
  for (const auto& [k, v] : subjects) {
    if (k == key) return v;
  }
  return {};
}

void SubjectObject(JsonWriter& w, const Labels& subjects, std::string_view kind,
                   std::initializer_list<std::string_view> fields) {
  w.Key(kind);
  const std::string_view id = Subject(subjects, kind);
  if (id.empty()) {
    w.Null();
    return;
  }
  w.StartObject().Field("id", id);
  // The seed types these as strings, never null: "" when the line did not
  // name them.
  for (std::string_view f : fields) {
    w.Field(f, Subject(subjects, fmt::format("{}.{}", kind, f)));
  }
  w.EndObject();
}

std::string RenderRun(const JobView& job, const std::vector<LogLine>& logs,
                      const std::string& status_json) {
  rapidjson::Document doc;
  doc.Parse(status_json.data(), status_json.size());
  JsonWriter w;
  w.StartObject();
  RunSummaryFields(w, doc);
  w.StringOrNull("errorStack", job.final_error ? std::string_view(job.final_error->stack)
                                               : std::string_view());
  const bool no_metadata = job.spec.payload_json.empty() || job.spec.payload_json == "{}";
  w.RawField("metadata", no_metadata ? std::string_view() : job.spec.payload_json);
  w.Key("logs").StartArray();
  for (const LogLine& line : logs) {
    w.StartObject()
        .Field("id", line.seq)
        .Field("jobType", job.spec.type)
        .Field("jobRun", job.job_id)
        .Field("level", LogLevelName(line.level))
        .Field("message", line.message)
        .RawField("details", line.details_json)
        .StringOrNull("gameServerId", Subject(line.subjects, "gameServer"))
        .StringOrNull("userId", Subject(line.subjects, "user"))
        .Field("createdAt", FormatTime(line.timestamp));
    SubjectObject(w, line.subjects, "gameServer", {"name", "status"});
    SubjectObject(w, line.subjects, "user", {"name", "email"});
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

ApiResult<HttpResponse> GetStatus(ApiContext& ctx, const DialectOptions&,
                                  const HttpRequest&) {
  BOOST_OUTCOME_TRY(schedules, ctx.schedules->ListSchedules());
  JsonWriter w;
  w.StartObject().Field("timestamp", FormatTime(ctx.reads->clock().Now()));
  w.Key("jobs").StartObject();
  for (const ScheduleView& v : schedules) {
    // Running as the runs list says RUNNING: triggered and not finished.
    ListQuery active;
    active.statuses = kWords.StatesNamed("RUNNING");
    active.type = v.schedule.spec.job_type;
    active.limit = 1;
    BOOST_OUTCOME_TRY(page, ctx.reads->List(active));
    w.Key(DisplayName(v.schedule)).StartObject().Field("isRunning", page.total > 0).EndObject();
  }
  w.EndObject().EndObject();
  return JsonResponse(200, w.Take());
}

ApiResult<HttpResponse> ListRuns(ApiContext& ctx, const DialectOptions& options,
                                 const HttpRequest& request) {
  BOOST_OUTCOME_TRY(schedules, ctx.schedules->ListSchedules());
  // The newest runs of each registered type the caller may see, merged
  // newest first.
  std::vector<std::pair<Millis, rapidjson::Document>> runs;
  for (const ScheduleView& v : schedules) {
    ListQuery q;
    q.type = v.schedule.spec.job_type;
    q.limit = kRecentRuns;
    if (!RestrictToCaller(request, options.IsPublic(kSeed), q)) continue;
    BOOST_OUTCOME_TRY(page, ctx.reads->List(q));
    for (const std::string& json : page.items_json) {
      rapidjson::Document doc;
      BOOST_OUTCOME_TRYV(ParseStatusDocument(json, doc));
      const Millis created = DocTime(doc, "created_at").value_or(0);
      runs.emplace_back(created, std::move(doc));
    }
  }
  std::stable_sort(runs.begin(), runs.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  if (runs.size() > kRecentRuns) runs.resize(kRecentRuns);
  JsonWriter w;
  w.StartObject().Field("timestamp", FormatTime(ctx.reads->clock().Now()));
  w.Key("runs").StartArray();
  for (const auto& [created, doc] : runs) {
    w.StartObject();
    RunSummaryFields(w, doc);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(200, w.Take());
}

ApiResult<HttpResponse> GetRun(ApiContext& ctx, const DialectOptions& options,
                               const HttpRequest& request) {
  const std::string& id = PathParam(request, "id");
  auto not_found = DialectError(Code::kNotFound, "JOB_NOT_FOUND", "Job run not found");
  auto status = ctx.reads->Status(id);
  if (!status) return status.error().code == Code::kNotFound ? not_found : status.error();
  BOOST_OUTCOME_TRY(schedules, ctx.schedules->ListSchedules());
  // Only runs of this API's job types, and only the caller's (as in /v1):
  // anything else answers as a run that does not exist.
  if (!IsRegisteredType(schedules, status.value().type) ||
      !CallerMayRead(request, options.IsPublic(kSeed), id, status.value().owner)) {
    return not_found;
  }
  BOOST_OUTCOME_TRY(events, ctx.reads->History(id));
  BOOST_OUTCOME_TRY(job, FoldEvents(events));
  return JsonResponse(200, RenderRun(job, LogLinesOf(events), status.value().json));
}

// Waits for the run to reach a final state, polling its status document
// with a doubling pause (2 ms .. 250 ms) until `wait` has passed.
Result<StatusDocument> AwaitRun(JobReads& store, const std::string& id,
                                std::chrono::seconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto pause = std::chrono::milliseconds(2);
  for (;;) {
    BOOST_OUTCOME_TRY(doc, store.Status(id));
    const auto now = std::chrono::steady_clock::now();
    if (IsFinal(doc.status) || now >= deadline) return doc;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(250));
  }
}

ApiResult<HttpResponse> Trigger(ApiContext& ctx, const DialectOptions&,
                                const HttpRequest& request) {
  auto fail = [&](Code code, std::string message) {
    return DialectError(code, "TRIGGER_FAILED", std::move(message));
  };
  const std::string& name = PathParam(request, "jobName");
  auto wait = ParseUintParameter(request, "wait", 0, UINT32_MAX);
  if (!wait) return fail(Code::kInvalidArgument, wait.error().error.message);
  BOOST_OUTCOME_TRY(schedules, ctx.schedules->ListSchedules());
  const ScheduleView* found = nullptr;
  for (const ScheduleView& v : schedules) {
    if (DisplayName(v.schedule) == name) found = &v;
  }
  if (found == nullptr) return fail(Code::kInvalidArgument, fmt::format("Unknown job: {}", name));
  auto run = ctx.schedules->TriggerSchedule(found->schedule.spec.name, "api");
  if (!run) return fail(HttpStatusFor(run.error()) >= 500 ? Code::kInternal : run.error().code,
                        run.error().message);
  const std::string id = run.value().job_id;
  // The seed's trigger answers when the run is done; jobtrail's runs are
  // done by workers, so it waits for one (60 s at most; ?wait=0 answers at
  // once that the run was started).
  const auto seconds =
      std::min<uint64_t>(wait.value().value_or(kMaxTriggerWaitSeconds), kMaxTriggerWaitSeconds);
  auto doc = AwaitRun(*ctx.reads, id, std::chrono::seconds(seconds));
  if (!doc) return fail(Code::kInternal, doc.error().message);
  BOOST_OUTCOME_TRY(job, ctx.reads->LoadJob(id, std::nullopt));
  JsonWriter w;
  w.StartObject().Field("timestamp", FormatTime(ctx.reads->clock().Now()));
  int http_status = 200;
  if (!IsFinal(job.status)) {
    // Not done yet: no result to report, and no success to claim.
    http_status = 202;
    w.Field("success", false)
        .Field("error", fmt::format("Job is still running after {} s", seconds));
  } else if (job.status == JobStatus::kFailed || job.status == JobStatus::kCancelled) {
    std::string error = job.final_error ? job.final_error->reason : job.cancel_reason;
    if (error.empty()) error = job.status == JobStatus::kFailed ? "Job failed" : "Job cancelled";
    w.Field("success", false).Field("error", error);
  } else {
    w.Field("success", true)
        .Key("result")
        .StartObject()
        .Field("processed", Count(job.items.processed))
        .Field("total", Count(job.items.total))
        .Field("failed", Count(job.items.failed))
        .EndObject();
  }
  // Beyond the seed: which run this was and where it stands (RUNNING when
  // the wait ended first).
  w.Field("runId", id).Field("status", kWords.Word(job.status)).EndObject();
  return JsonResponse(http_status, w.Take());
}

}  // namespace

void AddWorkerRunsDialect001(Router& router, ApiContext& context,
                             const DialectOptions& options) {
  // The seed documents no authentication. By default: the status (which
  // schedules run now) is for workers, like GET /v1/schedules; runs are
  // listed and read as /v1's jobs are (a reader its own, workers any by
  // id). --public-dialect 001 opens the three reads to anyone.
  const auto access = [&](RouteAccess secured) {
    return DialectAccess(options, kSeed, secured);
  };
  MountDialect(router, context, options, ErrorBody,
               {{"GET", "/v1/jobs/status", GetStatus, access(RouteAccess::kWorker),
                 RateClass::kDashboard},
                {"GET", "/v1/jobs/runs", ListRuns, access(RouteAccess::kListRead),
                 RateClass::kDashboard},
                {"GET", "/v1/jobs/runs/{id}", GetRun, access(RouteAccess::kCaller),
                 RateClass::kPoll},
                {"POST", "/v1/jobs/trigger/{jobName}", Trigger, RouteAccess::kAdmin}});
}

Result<void> RegisterSeed001Schedules(JobSchedules& store) {
  for (const WorkerJobType& t : kSeedTypes) {
    auto existing = store.GetSchedule(t.name);
    if (existing) continue;
    if (existing.error().code != Code::kNotFound) return existing.error();
    ScheduleSpec spec;
    spec.name = t.name;
    spec.display_name = t.display;
    spec.cron = t.cron;
    spec.job_type = t.name;
    spec.queue = kWorkerRunsQueue;
    spec.catch_up = CatchUp::kSkip;
    BOOST_OUTCOME_TRYV(store.PutSchedule(std::move(spec)));
  }
  return Ok();
}

}  // namespace jobtrail::http
