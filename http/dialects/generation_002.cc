// Seed 002's job routes. Status words:
//   pending    <- pending, retrying (queued for its next attempt)
//   processing <- running
//   completed, failed, cancelled <- the same states
// A kind is a job type of the same name ("storybook", ...). The estimate
// is the mean processing time of finished jobs of the kind (stats read
// model), rounded up to whole minutes; before any has finished, the
// kind's default below.
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <fmt/format.h>

#include <cmath>

#include "http/dialects/generation_002.h"
#include "http/dialects/support.h"
#include "http/security/crypto.h"
#include "http/server/error_mapping.h"
#include "http/server/json_reader.h"
#include "http/server/multipart_form.h"
#include "http/v1/writes.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

constexpr StatusVocabulary kWords{
    {"", "pending", "processing", "pending", "completed", "failed", "cancelled"}};
constexpr std::string_view kSeed = "002";

constexpr std::string_view kAudience =
    R"({"type":"string","enum":["children","young_adults","adults"]})";

struct Kind {
  std::string_view name;
  int default_minutes;
  bool needs_user;  // "Authentication: Required (user)"
  std::string_view message;
  std::string schema;  // JSON Schema (draft 4) of the start body
};

const std::vector<Kind>& Kinds() {
  static const std::vector<Kind> kinds = {
      {"storybook", 10, true, "Storybook generation job created",
       fmt::format(R"({{"type":"object","required":["title","story","characterImage","pages",
          "audience"],"properties":{{"title":{{"type":"string"}},
          "story":{{"type":"string"}},"characterImage":{{"type":"string"}},
          "pages":{{"type":"array","items":{{"type":"object",
            "required":["pageNumber","scenes"],"properties":{{"pageNumber":{{"type":"number"}},
            "scenes":{{"type":"array","items":{{"type":"object",
              "required":["description","emotion","imagePrompt"],"properties":{{
              "description":{{"type":"string"}},"emotion":{{"type":"string"}},
              "imagePrompt":{{"type":"string"}}}}}}}}}}}}}},
          "audience":{},"isReusedImage":{{"type":"boolean"}}}}}})",
                   kAudience)},
      {"auto-story", 6, true, "Auto-story generation job created",
       fmt::format(R"({{"type":"object","required":["genre","characterDescription",
          "cartoonImageUrl","audience"],"properties":{{"genre":{{"type":"string",
          "enum":["adventure","siblings","bedtime","fantasy","history"]}},
          "characterDescription":{{"type":"string"}},
          "cartoonImageUrl":{{"type":"string"}},"audience":{}}}}})",
                   kAudience)},
      {"scenes", 3, false, "Scene generation job created",
       fmt::format(R"({{"type":"object","required":["story","audience"],"properties":{{
          "story":{{"type":"string","minLength":50}},"characterImage":{{"type":"string"}},
          "audience":{}}}}})",
                   kAudience)},
      {"cartoonize", 2, false, "Cartoonize job created",
       R"({"type":"object","required":["prompt","style"],"properties":{
          "prompt":{"type":"string"},"style":{"type":"string",
          "enum":["storybook","semi-realistic","comic-book","flat-illustration","anime"]},
          "imageUrl":{"type":"string"},"image":{"type":"object"}}})"},
      {"image", 2, false, "Image generation job created",
       fmt::format(R"({{"type":"object","required":["image_prompt","character_description",
          "emotion","audience"],"properties":{{"image_prompt":{{"type":"string"}},
          "character_description":{{"type":"string"}},"emotion":{{"type":"string"}},
          "audience":{},"isReusedImage":{{"type":"boolean"}},"cartoon_image":{{"type":"string"}},
          "style":{{"type":"string"}}}}}})",
                   kAudience)},
  };
  return kinds;
}

const Kind* FindKind(std::string_view name) {
  for (const Kind& k : Kinds()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// The compiled schemas, built once (their text is ours: a parse failure
// is a bug and fails every start of that kind).
const rapidjson::SchemaDocument* SchemaFor(const Kind& kind) {
  static const auto* compiled = [] {
    auto* out = new std::vector<std::unique_ptr<rapidjson::SchemaDocument>>();
    for (const Kind& k : Kinds()) {
      rapidjson::Document d;
      d.Parse(k.schema.data(), k.schema.size());
      out->push_back(d.HasParseError() ? nullptr
                                       : std::make_unique<rapidjson::SchemaDocument>(d));
    }
    return out;
  }();
  return (*compiled)[size_t(&kind - Kinds().data())].get();
}

ApiError InvalidInput(std::string message) {
  return DialectError(Code::kInvalidArgument, "INVALID_INPUT", std::move(message));
}
ApiError JobNotFound(std::string_view id) {
  return DialectError(Code::kNotFound, "JOB_NOT_FOUND", fmt::format("Job {} not found", id));
}

ApiResult<const Kind*> KindParam(const HttpRequest& request) {
  const std::string& name = PathParam(request, "kind");
  const Kind* kind = FindKind(name);
  if (kind == nullptr) {
    return DialectError(Code::kNotFound, "NOT_FOUND",
                        fmt::format("Unknown job kind '{}'", name));
  }
  return kind;
}

ApiResult<void> Validate(const Kind& kind, const rapidjson::Document& body) {
  const rapidjson::SchemaDocument* schema = SchemaFor(kind);
  if (schema == nullptr) return Internal(fmt::format("schema of {} does not parse", kind.name));
  rapidjson::SchemaValidator validator(*schema);
  if (body.Accept(validator)) return boost::outcome_v2::success();
  rapidjson::StringBuffer where;
  validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
  std::string field = where.GetString();
  if (field.size() > 1) field = field.substr(2);  // "#/story" -> "story"
  return InvalidInput(fmt::format("Invalid input: {} fails the '{}' rule",
                                  field.size() <= 1 ? "body" : field,
                                  validator.GetInvalidSchemaKeyword()));
}

int EstimatedMinutes(JobReads& store, const Kind& kind) {
  const StatsSnapshot stats = store.Stats();
  auto it = stats.by_type.find(std::string(kind.name));
  if (it == stats.by_type.end() || it->second.processing.count == 0) {
    return kind.default_minutes;
  }
  return std::max(1, int(std::ceil(it->second.processing.mean_ms / 60000.0)));
}

size_t WordCount(std::string_view text) {
  size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

std::string_view Str(const rapidjson::Value& body, std::string_view key) {
  return DocString(body, key);
}

// The kind's own block of the start answer.
void StartInfo(JsonWriter& w, const Kind& kind, const rapidjson::Value& body) {
  if (kind.name == "auto-story") {
    w.Key("phases").StartArray();
    for (std::string_view p : {"story_generation", "scene_generation", "storybook_creation"}) {
      w.String(p);
    }
    w.EndArray();
  } else if (kind.name == "scenes") {
    const size_t words = WordCount(Str(body, "story"));
    const size_t low = std::max<size_t>(1, words / 100);
    w.Key("storyInfo")
        .StartObject()
        .Field("wordCount", uint64_t{words})
        .Field("audience", Str(body, "audience"))
        .Field("estimatedScenes", fmt::format("{}-{}", low, low + 2))
        .EndObject();
  } else if (kind.name == "cartoonize") {
    w.Key("processingInfo")
        .StartObject()
        .Field("style", Str(body, "style"))
        .Field("promptLength", uint64_t{Str(body, "prompt").size()})
        .Field("hasSourceImage",
               !Str(body, "imageUrl").empty() || DocMember(body, "image") != nullptr)
        .EndObject();
  } else if (kind.name == "image") {
    const rapidjson::Value* reused = DocMember(body, "isReusedImage");
    const std::string_view style = Str(body, "style");
    w.Key("imageInfo")
        .StartObject()
        .Field("style", style.empty() ? "storybook" : style)
        .Field("audience", Str(body, "audience"))
        .Field("emotion", Str(body, "emotion"))
        .Field("isReusedImage", reused != nullptr && reused->IsTrue())
        .Field("promptLength", uint64_t{Str(body, "image_prompt").size()})
        .EndObject();
  }
}

// The start body: JSON, or a form (the seed's cartoonize sends FormData).
// A form's text fields become strings and a file field an object:
// {"filename", "contentType", "size", "base64"}; the worker gets the bytes.
ApiResult<void> ReadStartBody(const HttpRequest& request, rapidjson::Document& body) {
  const std::optional<std::string> type = request.Header("Content-Type");
  if (!type || !IsMultipartForm(*type)) {
    if (auto parsed = ParseJsonBody(request.body, body); !parsed) {
      return InvalidInput(fmt::format("Invalid input: {}", parsed.error().error.message));
    }
    return boost::outcome_v2::success();
  }
  auto fields = ParseMultipartForm(*type, request.body);
  if (!fields) return InvalidInput(fmt::format("Invalid input: {}", fields.error().message));
  body.SetObject();
  auto& a = body.GetAllocator();
  auto text = [&](std::string_view s) {
    return rapidjson::Value(s.data(), rapidjson::SizeType(s.size()), a);
  };
  for (const FormField& f : fields.value()) {
    if (body.HasMember(f.name.c_str())) {
      return InvalidInput(fmt::format("Invalid input: field '{}' is given twice", f.name));
    }
    if (!f.filename) {
      body.AddMember(text(f.name), text(f.data), a);
      continue;
    }
    rapidjson::Value file(rapidjson::kObjectType);
    file.AddMember("filename", text(*f.filename), a);
    file.AddMember("contentType", text(f.content_type), a);
    file.AddMember("size", uint64_t{f.data.size()}, a);
    file.AddMember("base64", text(Base64Encode(f.data)), a);
    body.AddMember(text(f.name), file, a);
  }
  return boost::outcome_v2::success();
}

ApiResult<HttpResponse> Start(ApiContext& ctx, const DialectOptions& options,
                              const HttpRequest& request) {
  BOOST_OUTCOME_TRY(kind, KindParam(request));
  // storybook and auto-story need a user; the other kinds take one if given.
  // (The request gate authenticated the credentials, if any were sent.)
  // A share link reads its one job and creates nothing (the gate refuses it
  // first; this keeps the rule should the route's access change).
  if (request.principal.share_link()) {
    return DialectError(Code::kPermissionDenied, "FORBIDDEN",
                        "a share link reads only its one job");
  }
  if (kind->needs_user && !request.principal.authenticated()) {
    return DialectError(Code::kUnauthenticated, "UNAUTHORIZED",
                        "Missing or invalid authentication");
  }
  std::string owner = request.principal.authenticated() ? request.principal.subject : "";
  rapidjson::Document body;
  BOOST_OUTCOME_TRYV(ReadStartBody(request, body));
  BOOST_OUTCOME_TRYV(Validate(*kind, body));
  EnqueueRequest enqueue;
  enqueue.spec.type = std::string(kind->name);
  enqueue.spec.owner = std::move(owner);
  enqueue.spec.payload_json = SerializeJson(body);
  enqueue.spec.max_attempts = kGenerationMaxRetries + 1;
  enqueue.actor = ActorNamed(request.principal, std::nullopt);
  BOOST_OUTCOME_TRY(written, ctx.commands->Enqueue(std::move(enqueue)));
  const int minutes = EstimatedMinutes(*ctx.reads, *kind);
  const Millis now = ctx.reads->clock().Now();
  JsonWriter w;
  w.StartObject()
      .Field("jobId", written.job_id)
      .Field("status", "pending")
      .Field("estimatedCompletion", FormatTime(now + Millis(minutes) * 60000))
      .Field("estimatedMinutes", minutes)
      .Field("pollingUrl", fmt::format("{}/api/jobs/{}/status/{}", options.prefix, kind->name,
                                       written.job_id))
      .Field("message", kind->message);
  StartInfo(w, *kind, body);
  w.EndObject();
  return JsonResponse(200, w.Take());
}

std::string Remaining(Millis ms) {
  if (ms < 60000) return "less than a minute";
  const int64_t minutes = (ms + 59999) / 60000;
  return fmt::format("about {} minute{}", minutes, minutes == 1 ? "" : "s");
}

// The kind's own block of the status answer, from the result.
void StatusInfo(JsonWriter& w, const Kind& kind, const JobView& job) {
  rapidjson::Document result;
  result.Parse(job.result_json.data(), job.result_json.size());
  const bool has_result = !job.result_json.empty() && !result.HasParseError();
  if (kind.name == "auto-story" && !job.step.empty()) {
    w.Field("currentPhase", job.step);
  } else if (kind.name == "scenes" && has_result) {
    const rapidjson::Value* pages = DocMember(result, "pages");
    if (pages == nullptr || !pages->IsArray()) return;
    uint64_t scenes = 0;
    for (const auto& page : pages->GetArray()) {
      const rapidjson::Value* s = DocMember(page, "scenes");
      if (s != nullptr && s->IsArray()) scenes += s->Size();
    }
    const uint64_t total = pages->Size();
    w.Key("sceneInfo").StartObject().Field("totalPages", total).Field("totalScenes", scenes);
    w.Key("averageScenesPerPage");
    JsNumber(w, total == 0 ? 0.0 : double(scenes) / double(total));
    w.EndObject();
  } else if (kind.name == "cartoonize" && has_result) {
    const rapidjson::Value* cached = DocMember(result, "cached");
    const bool hit = cached != nullptr && cached->IsTrue();
    w.Key("processingInfo")
        .StartObject()
        .Field("cached", hit)
        .Field("message", hit ? "Served from cache" : "Image generated")
        .EndObject();
  } else if (kind.name == "image" && has_result) {
    rapidjson::Document payload;
    payload.Parse(job.spec.payload_json.data(), job.spec.payload_json.size());
    const rapidjson::Value* reused = DocMember(result, "reused");
    const std::string_view style = payload.HasParseError() ? "" : DocString(payload, "style");
    w.Key("generationInfo")
        .StartObject()
        .Field("reused", reused != nullptr && reused->IsTrue())
        .Field("promptUsed", DocString(result, "prompt_used"))
        .Field("style", style.empty() ? "storybook" : style)
        .EndObject();
  }
}

ApiResult<HttpResponse> Status(ApiContext& ctx, const DialectOptions& options,
                               const HttpRequest& request) {
  BOOST_OUTCOME_TRY(kind, KindParam(request));
  const std::string& id = PathParam(request, "jobId");
  auto loaded = ctx.reads->LoadJob(id, std::nullopt);
  if (!loaded) return loaded.error().code == Code::kNotFound ? JobNotFound(id) : loaded.error();
  const JobView& job = loaded.value();
  // Another kind's job, or one the caller may not see, answers exactly as
  // a job that does not exist.
  if (job.spec.type != kind->name ||
      !CallerMayRead(request, options.IsPublic(kSeed), id, job.spec.owner)) {
    return JobNotFound(id);
  }
  const Millis now = ctx.reads->clock().Now();
  JsonWriter w;
  w.StartObject().Field("jobId", job.job_id).Field("status", kWords.Word(job.status));
  w.Key("progress");
  JsNumber(w, job.progress.value_or(job.status == JobStatus::kCompleted ? 100.0 : 0.0));
  if (!job.step.empty()) w.Field("currentStep", job.step);
  w.Field("createdAt", FormatTime(job.created_at)).Field("updatedAt", FormatTime(job.updated_at));
  if (job.started_at) w.Field("startedAt", FormatTime(*job.started_at));
  if (job.completed_at) w.Field("completedAt", FormatTime(*job.completed_at));
  if (job.status == JobStatus::kRunning && job.estimated_completion_at) {
    w.Field("estimatedTimeRemaining",
            Remaining(std::max<Millis>(0, *job.estimated_completion_at - now)));
  }
  if (job.status == JobStatus::kCompleted && !job.result_json.empty()) {
    w.RawField("result", job.result_json);
  }
  if (job.status == JobStatus::kFailed && job.final_error) {
    w.Field("error", job.final_error->reason);
  } else if (job.status == JobStatus::kCancelled) {
    w.Field("error", job.cancel_reason.empty() ? "Job cancelled" : job.cancel_reason);
  } else if (const ErrorEntry* last = job.LastError(); last && !IsFinal(job.status)) {
    w.Field("error", last->message);
  }
  w.Field("retryCount", int64_t{std::max(0, job.attempts - 1)})
      .Field("maxRetries", int64_t{std::max(0, job.spec.max_attempts - 1)});
  StatusInfo(w, *kind, job);
  w.EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace

std::string GenerationErrorBody002(const ApiError& e, const HttpRequest&, Millis) {
  std::string code = e.error.reason;
  switch (e.error.code) {
    case Code::kInvalidArgument: code = "INVALID_INPUT"; break;
    case Code::kUnauthenticated: code = "UNAUTHORIZED"; break;
    case Code::kResourceExhausted:
      // An upload over the size limit failed validation; only a spent
      // budget is the seed's RATE_LIMIT_EXCEEDED.
      code = e.error.reason == "PAYLOAD_TOO_LARGE" ? "INVALID_INPUT" : "RATE_LIMIT_EXCEEDED";
      break;
    case Code::kDataLoss:
    case Code::kInternal: code = "DATABASE_ERROR"; break;
    default: break;
  }
  // The gate's refusal of credentials in the seed's words (the cron route's
  // own 401 keeps its webhook message).
  std::string_view message = e.error.message;
  if (e.error.reason == "MISSING_CREDENTIALS" || e.error.reason == "INVALID_CREDENTIALS") {
    message = "Missing or invalid authentication";
  }
  JsonWriter w;
  w.StartObject().Field("error", message).Field("code", code);
  if (e.retry_after_seconds > 0) w.Field("retryAfter", e.retry_after_seconds);
  return w.EndObject().Take();
}

void AddGenerationDialect002(Router& router, ApiContext& context,
                             const DialectOptions& options) {
  // The seed's status is "public" and three kinds start without a user. By
  // default every start needs credentials (the job is the caller's; a share
  // link creates nothing) and a status is read as /v1 reads a job;
  // --public-dialect 002 lets anyone start those three kinds and read any
  // status of the five kinds.
  MountDialect(router, context, options, GenerationErrorBody002,
               {{"POST", "/api/jobs/{kind}/start", Start,
                 DialectAccess(options, kSeed, RouteAccess::kUser, RouteAccess::kSelf),
                 RateClass::kCreate},
                {"GET", "/api/jobs/{kind}/status/{jobId}", Status,
                 DialectAccess(options, kSeed, RouteAccess::kCaller), RateClass::kPoll, "jobId"}});
}

}  // namespace jobtrail::http
