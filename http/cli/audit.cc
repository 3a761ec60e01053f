// `jobtrail replay`, `export` and `import`: the audit history in human and
// machine form, and a way to move it between stores.
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <iostream>

#include "http/cli/commands.h"
#include "http/security/crypto.h"
#include "http/v1/request_parsing.h"
#include "http/webhooks/attempt_json.h"
#include "projections/job_json.h"

namespace jobtrail::cli {
namespace {

std::string Duration(Millis ms) {
  if (ms % 1000 != 0 || ms < 1000) return fmt::format("{} ms", ms);
  if (ms % 60000 != 0 || ms < 60000) return fmt::format("{} s", ms / 1000);
  return fmt::format("{} min", ms / 60000);
}

std::string ArtifactList(const std::vector<Artifact>& artifacts) {
  std::string out;
  for (const Artifact& a : artifacts) {
    out += fmt::format("; {} {}", a.kind.empty() ? "artifact" : a.kind,
                       !a.url.empty() ? a.url : !a.key.empty() ? a.key
                                                               : fmt::format("({} bytes)", a.bytes.size()));
  }
  return out;
}

struct Describer {
  std::string operator()(const Enqueued& e) const {
    return fmt::format("type {} on queue {}, {} attempt(s) allowed{}{}", e.type, e.queue,
                       e.max_attempts, e.owner.empty() ? "" : ", owner " + e.owner,
                       e.run_at ? ", not before " + FormatTime(*e.run_at) : "");
  }
  std::string operator()(const Started& e) const {
    return fmt::format("attempt {}{}{}", e.attempt == 0 ? std::string("(next)") : std::to_string(e.attempt),
                       e.worker_id.empty() ? "" : " on worker " + e.worker_id,
                       e.lease_deadline ? ", lease until " + FormatTime(*e.lease_deadline) : "");
  }
  std::string operator()(const Progressed& e) const {
    std::string out = e.percent ? fmt::format("{:.1f}%", *e.percent) : "progress";
    if (!e.step.empty()) out += " step '" + e.step + "'";
    if (!e.message.empty()) out += ": " + e.message;
    if (e.items.processed) out += fmt::format(" ({} processed)", *e.items.processed);
    return out;
  }
  std::string operator()(const Logged& e) const {
    return fmt::format("[{}] {}", LogLevelName(e.level), e.message);
  }
  std::string operator()(const Errored& e) const {
    return fmt::format("{}{}{}{}", e.error_type.empty() ? "" : e.error_type + ": ", e.message,
                       e.stage.empty() ? "" : " (stage " + e.stage + ")", ArtifactList(e.artifacts));
  }
  std::string operator()(const Retried& e) const {
    return fmt::format("will retry at {} after a {} backoff", FormatTime(e.next_run_at),
                       Duration(e.backoff_ms));
  }
  std::string operator()(const Completed& e) const {
    return e.result_json.empty() ? "done" : "result " + e.result_json;
  }
  std::string operator()(const Failed& e) const {
    return e.reason.empty() ? "gave up" : "gave up: " + e.reason;
  }
  std::string operator()(const Cancelled& e) const {
    return fmt::format("cancelled{}{}", e.by.empty() ? "" : " by " + e.by,
                       e.reason.empty() ? "" : ": " + e.reason);
  }
  std::string operator()(const Expired& e) const {
    return fmt::format("expired ({}): read models no longer show the job", e.reason);
  }
  std::string operator()(const WebhookAttempted& e) const {
    std::string out = fmt::format(
        "{} about v{} ({}) to {}, attempt {}: {}", e.delivery_id, e.event_version, e.event_type,
        e.webhook_id.empty() ? "callback_url" : "webhook " + e.webhook_id, e.attempt,
        e.status_code != 0 ? fmt::format("HTTP {}", e.status_code) : std::string("no answer"));
    if (!e.error.empty()) out += " (" + e.error + ")";
    out += ", " + std::string(WebhookOutcomeName(e.outcome));
    if (e.next_attempt_at) out += " until " + FormatTime(*e.next_attempt_at);
    return out;
  }
};

std::string StateLine(const JobView& job) {
  return fmt::format("{} (attempt {}/{}, {} retries left)", StatusName(job.status), job.attempts,
                     job.spec.max_attempts, job.RetriesLeft());
}

// Drops null members: the export writes "not set" as null, the parser
// wants such fields absent. Also the derived artifact "size".
void StripNulls(rapidjson::Value& v) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd();) {
      if (it->value.IsNull() || (std::string_view(it->name.GetString()) == "size")) {
        it = v.EraseMember(it);
      } else {
        StripNulls(it->value);
        ++it;
      }
    }
  } else if (v.IsArray()) {
    for (auto& item : v.GetArray()) StripNulls(item);
  }
}

}  // namespace

int Replay(const StoreFlags& flags, const std::string& job_id, bool json) {
  auto store = OpenReader(flags);  // works beside a running server
  if (!store) return 1;
  auto history = store->AuditHistory(job_id);
  if (!history) {
    std::cerr << "jobtrail: " << history.error().message << "\n";
    return 1;
  }
  JobView job;
  const auto& events = history.value();
  if (!json && !events.empty()) {
    const auto& first = std::get<Enqueued>(events.front().body);
    std::cout << fmt::format("job {}: {} event(s), type {}, queue {}\n\n", job_id, events.size(),
                             first.type, first.queue);
  }
  for (const RecordedEvent& e : events) {
    if (auto applied = ApplyEvent(job, e); !applied) {
      std::cerr << "jobtrail: event " << e.version << " does not apply: "
                << applied.error().message << "\n";
      return 1;
    }
    if (json) {
      std::cout << "{\"event\":" << RenderEventJson(e) << ",\"state\":" << RenderJobJson(job)
                << "}\n";
    } else {
      std::cout << fmt::format("v{:<3} pos {:<8} {}  {:<12} {:<10} {}\n", e.version, e.position,
                               FormatTime(e.timestamp), e.actor.empty() ? "-" : e.actor,
                               EventKindName(KindOf(e.body)), std::visit(Describer{}, e.body));
      std::cout << fmt::format("{:>40}-> {}\n", "", StateLine(job));
    }
  }
  return 0;
}

int Export(const StoreFlags& flags, const std::string& job_id, uint64_t after) {
  // Inline artifact bytes (uploaded screenshots) travel with the export.
  const InlineBytesEncoder with_bytes = [](std::string_view bytes) {
    return http::Base64Encode(bytes);
  };
  auto store = OpenReader(flags);  // works beside a running server
  if (!store) return 1;
  if (!job_id.empty()) {
    auto history = store->AuditHistory(job_id);
    if (!history) {
      std::cerr << "jobtrail: " << history.error().message << "\n";
      return 1;
    }
    for (const auto& e : history.value()) {
      if (e.position > after) std::cout << RenderEventJson(e, with_bytes) << "\n";
    }
    return 0;
  }
  for (uint64_t position = after;;) {
    auto chunk = store->Feed(position, 4096);
    if (!chunk) {
      std::cerr << "jobtrail: " << chunk.error().message << "\n";
      return 1;
    }
    if (chunk.value().empty()) break;
    for (const auto& e : chunk.value()) std::cout << RenderEventJson(e, with_bytes) << "\n";
    position = chunk.value().back().position;
  }
  return 0;
}

int Import(const StoreFlags& flags, const std::string& file) {
  std::ifstream in_file;
  if (file != "-") {
    in_file.open(file);
    if (!in_file) {
      std::cerr << "jobtrail: cannot read '" << file << "'\n";
      return 1;
    }
  }
  std::istream& in = file == "-" ? std::cin : in_file;
  auto store = OpenStore(flags, /*create=*/true);
  if (!store) return 1;
  std::string line;
  uint64_t line_no = 0, imported = 0, skipped = 0;
  auto fail = [&](const std::string& why) {
    std::cerr << fmt::format("jobtrail: {}:{}: {}\n", file, line_no, why);
    std::cerr << fmt::format("imported {} event(s) before the error\n", imported);
    return 1;
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) return fail("not a JSON object");
    for (const char* key : {"type", "job_id", "event_id", "timestamp", "actor", "data"}) {
      if (!doc.HasMember(key)) return fail(fmt::format("missing '{}'", key));
    }
    if (!doc["type"].IsString() || !doc["job_id"].IsString() || !doc["event_id"].IsString() ||
        !doc["timestamp"].IsString() || !doc["actor"].IsString() || !doc["data"].IsObject()) {
      return fail("fields have the wrong types");
    }
    const std::string type = doc["type"].GetString();
    const std::string job_id = doc["job_id"].GetString();
    const std::string event_id = doc["event_id"].GetString();
    const auto timestamp = ParseTime(doc["timestamp"].GetString());
    if (!timestamp) return fail("timestamp is not RFC 3339");
    StripNulls(doc["data"]);
    Result<WriteOutcome> written = InvalidArgument("unreachable");
    if (type == "enqueued") {
      auto parsed = http::ParseEnqueue(doc["data"], "data");
      if (!parsed) return fail(parsed.error().error.message);
      EnqueueRequest request = std::move(parsed).value();
      request.job_id = job_id;
      request.event_id = event_id;
      request.actor = doc["actor"].GetString();
      request.timestamp = timestamp;
      written = store->Enqueue(std::move(request));
    } else if (type == "expired") {
      // Only the store writes expiries; the API refuses them, import keeps them.
      const rapidjson::Value& data = doc["data"];
      AppendRequest request;
      request.job_id = job_id;
      request.events = {Expired{data.HasMember("reason") && data["reason"].IsString()
                                    ? data["reason"].GetString()
                                    : ""}};
      request.event_ids = {event_id};
      request.actor = doc["actor"].GetString();
      request.timestamp = timestamp;
      written = store->Append(std::move(request));
    } else if (type == "webhook_attempted") {
      // Written by the webhook dispatcher only; import keeps them.
      auto attempt = webhooks::ParseAttemptData(doc["data"]);
      if (!attempt) return fail(attempt.error().message);
      AppendRequest request;
      request.job_id = job_id;
      request.events = {std::move(attempt).value()};
      request.event_ids = {event_id};
      request.actor = doc["actor"].GetString();
      request.timestamp = timestamp;
      written = store->Append(std::move(request));
    } else {
      rapidjson::Document event;
      event.SetObject();
      auto& alloc = event.GetAllocator();
      event.AddMember("type", rapidjson::Value(type.c_str(), alloc), alloc);
      event.AddMember("event_id", rapidjson::Value(event_id.c_str(), alloc), alloc);
      event.AddMember("data", rapidjson::Value(doc["data"], alloc), alloc);
      auto parsed = http::ParseEventsBody(event);
      if (!parsed) return fail(parsed.error().error.message);
      AppendRequest request;
      request.job_id = job_id;
      request.events = std::move(parsed.value().events);
      request.event_ids = {event_id};
      request.actor = doc["actor"].GetString();
      request.timestamp = timestamp;
      written = store->Append(std::move(request));
    }
    if (!written) return fail(written.error().message);
    written.value().duplicate ? ++skipped : ++imported;
  }
  std::cout << fmt::format("imported {} event(s); {} already present\n", imported, skipped);
  return 0;
}

}  // namespace jobtrail::cli
