#include "bench/load/lifecycle.h"

#include "bench/load/http_client.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <functional>
#include <random>
#include <thread>

namespace jobtrail::load {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// A job this worker holds: claimed, its progress reported or not yet.
struct Held {
  std::string id;
  bool fail = false;  // this attempt ends in an error with a screenshot
  int events = 0;     // events its final append carries (counted when acknowledged)
};

// Reads that tolerate a malformed answer (RapidJSON's getters assert): a
// missing or mistyped field reads as "" or `fallback`.
std::string GetStr(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return "";
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}
int64_t GetInt(const rapidjson::Value& v, const char* key, int64_t fallback = -1) {
  if (!v.IsObject()) return fallback;
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : fallback;
}
bool GetBool(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return false;
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

void Str(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), rapidjson::SizeType(value.size()));
}

int Percent(int i, int k) { return 100 * (i + 1) / (k + 1); }  // k reports: 50 for k = 1

void WriteProgressed(Writer& w, int percent) {
  w.StartObject();
  Str(w, "type", "progressed");
  w.Key("data");
  w.StartObject();
  w.Key("percent");
  w.Int(percent);
  Str(w, "step", "filling form");
  w.EndObject();
  w.EndObject();
}

// The attempt's last event: a small result, or the form bot's error with a
// screenshot artifact (the store answers it with a retry).
void WriteEnd(Writer& w, const Held& job) {
  w.StartObject();
  Str(w, "type", job.fail ? "errored" : "completed");
  w.Key("data");
  w.StartObject();
  if (job.fail) {
    Str(w, "error_type", "FormFillError");
    Str(w, "message", "Element not found: #btnSubmit");
    Str(w, "stage", "form-filling");
    w.Key("artifacts");
    w.StartArray();
    w.StartObject();
    Str(w, "kind", "screenshot");
    Str(w, "url", "https://s3.example.com/shots/" + job.id + ".png");
    Str(w, "key", "shots/" + job.id + ".png");
    w.EndObject();
    w.EndArray();
  } else {
    w.Key("result");
    w.StartObject();
    w.Key("ok");
    w.Bool(true);
    Str(w, "confirmation", job.id.substr(0, 8));
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
}

// [progressed x k, end] as one job's events array.
void WriteJobEvents(Writer& w, const Held& job, int progress) {
  w.StartArray();
  for (int i = 0; i < progress; ++i) WriteProgressed(w, Percent(i, progress));
  WriteEnd(w, job);
  w.EndArray();
}

std::string Describe(const char* what, const Response& r) {
  return std::string(what) + ": " +
         (r.status == 0 ? r.transport_error : std::to_string(r.status) + " " + r.body.substr(0, 200));
}

class Worker {
 public:
  Worker(Shared& shared, int index, Recorder& rec)
      : s_(shared), opt_(shared.opt), rec_(rec), http_(opt_.url, opt_.token),
        worker_id_("load-" + std::to_string(index)) {}

  void Run() {
    switch (opt_.mode) {
      case Mode::kPerTransition: return Loop(1, [this](std::vector<Held>& jobs) { PerTransition(jobs); });
      case Mode::kBatch:
        return Loop(opt_.claim_batch, [this](std::vector<Held>& jobs) { Batch(jobs); });
      case Mode::kProtocol:
      case Mode::kProtocolBatch: return Protocol(opt_.mode == Mode::kProtocol ? 1 : opt_.claim_batch);
    }
  }

 private:
  // Counts a request; false (and an error noted) unless it got a 2xx.
  bool Count(Kind kind, const Response& r, const char* what) {
    s_.requests.fetch_add(1, std::memory_order_relaxed);
    rec_.Add(kind, r.ms, r.ok());
    if (r.ok()) return true;
    s_.errors.fetch_add(1, std::memory_order_relaxed);
    rec_.Note(Describe(what, r));
    if (r.refused) s_.Fatal("the server refuses connections (did it exit?): " + Describe(what, r));
    Idle();  // a failing server is not hammered in a tight loop
    return false;
  }

  void Idle() { std::this_thread::sleep_for(std::chrono::milliseconds(opt_.idle_ms)); }

  // Claims up to max_jobs (with `append` when given); fills `held` with what
  // it got, and handles the `appended` answers. False when the claim failed.
  bool Claim(int max_jobs, const std::vector<Held>& append, std::vector<Held>& held) {
    rapidjson::StringBuffer body;
    Writer w(body);
    w.StartObject();
    Str(w, "worker_id", worker_id_);
    w.Key("max_jobs");
    w.Int(max_jobs);
    w.Key("lease_ms");
    w.Int(opt_.lease_ms);
    if (!append.empty()) {
      w.Key("append");
      w.StartArray();
      for (const Held& job : append) {
        w.StartObject();
        Str(w, "job_id", job.id);
        w.Key("events");
        if (opt_.mode == Mode::kProtocolBatch) {
          WriteJobEvents(w, job, opt_.progress);
        } else {
          w.StartArray();
          WriteEnd(w, job);
          w.EndArray();
        }
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
    const Response r = http_.Post(s_.queue_path + "/claim", body.GetString());
    if (!Count(append.empty() ? Kind::kClaim : Kind::kClaimAppend, r, "claim")) {
      // A claim the server refuses outright will be refused again: give up.
      if (r.status == 400 || r.status == 404) s_.Fatal(Describe("claim", r));
      return false;
    }
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("jobs") || !doc["jobs"].IsArray()) {
      s_.Fatal("claim answered without a jobs array: " + r.body.substr(0, 200));
      return false;
    }
    if (!append.empty()) {
      if (!doc.HasMember("appended") || !doc["appended"].IsArray()) {
        s_.Fatal("claim answered without `appended`: the server does not speak the worker protocol");
        return false;
      }
      const auto& appended = doc["appended"];
      for (rapidjson::SizeType i = 0; i < appended.Size(); ++i) {
        const auto& a = appended[i];
        const Held* job = i < append.size() ? &append[i] : nullptr;
        const std::string status = GetStr(a, "status");
        if (!a.IsObject() || a.HasMember("error") || status.empty() || job == nullptr ||
            GetStr(a, "job_id") != job->id) {
          s_.errors.fetch_add(1, std::memory_order_relaxed);
          ++rec_.errors[size_t(Kind::kClaimAppend)];
          rec_.Note("appended: " + std::string(r.body.substr(0, 300)));
          continue;
        }
        Acknowledged(*job, status, job->events);
      }
    }
    for (const auto& j : doc["jobs"].GetArray()) {
      Held h;
      h.id = GetStr(j, "job_id");
      const int64_t attempt = GetInt(j, "attempt", 1);
      if (h.id.empty()) {
        s_.Fatal("claim answered a job without job_id: " + r.body.substr(0, 200));
        return false;
      }
      if (attempt <= 1) {
        const int64_t n = s_.first_claims.fetch_add(1) + 1;
        h.fail = opt_.error_every > 0 && n % opt_.error_every == 0;
      } else {
        s_.retries_pending.fetch_sub(1);
      }
      s_.events.fetch_add(1, std::memory_order_relaxed);  // started
      held.push_back(std::move(h));
    }
    return true;
  }

  // The server acknowledged a job's last events with the job's new status.
  void Acknowledged(const Held& job, const std::string& status, int events) {
    if (status == "completed") {
      s_.completed.fetch_add(1);
      s_.events.fetch_add(events, std::memory_order_relaxed);
    } else if (job.fail && status == "retrying") {
      s_.errored.fetch_add(1);
      s_.retries_pending.fetch_add(1);
      s_.events.fetch_add(events + 1, std::memory_order_relaxed);  // + the store's retried
    } else {
      s_.errors.fetch_add(1, std::memory_order_relaxed);
      rec_.Note("job " + job.id + " ended " + status);
    }
  }

  template <typename Handle>
  void Loop(int max_jobs, Handle handle) {
    std::vector<Held> jobs;
    while (!s_.Done()) {
      jobs.clear();
      if (!Claim(max_jobs, {}, jobs) || jobs.empty()) {
        Idle();
        continue;
      }
      handle(jobs);
    }
  }

  std::string Body(const std::function<void(Writer&)>& write) {
    rapidjson::StringBuffer b;
    Writer w(b);
    write(w);
    return b.GetString();
  }

  void PerTransition(std::vector<Held>& jobs) {
    for (const Held& job : jobs) {
      const std::string path = "/v1/jobs/" + job.id + "/events";
      for (int i = 0; i < opt_.progress; ++i) {
        const Response r = http_.Post(path, Body([&](Writer& w) { WriteProgressed(w, Percent(i, opt_.progress)); }));
        if (Count(Kind::kProgress, r, "progressed")) s_.events.fetch_add(1, std::memory_order_relaxed);
      }
      const Response r = http_.Post(path, Body([&](Writer& w) { WriteEnd(w, job); }));
      if (!Count(job.fail ? Kind::kError : Kind::kComplete, r, job.fail ? "errored" : "completed")) continue;
      Acknowledged(job, StatusOf(r.body), 1);
    }
  }

  void Batch(std::vector<Held>& jobs) {
    const std::string body = Body([&](Writer& w) {
      w.StartObject();
      w.Key("operations");
      w.StartArray();
      for (const Held& job : jobs) {
        w.StartObject();
        Str(w, "op", "append");
        Str(w, "job_id", job.id);
        w.Key("events");
        WriteJobEvents(w, job, opt_.progress);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    });
    const Response r = http_.Post("/v1/batch", body);
    if (!Count(Kind::kBatch, r, "batch")) return;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("results") || !doc["results"].IsArray()) {
      s_.Fatal("batch answered without results: " + r.body.substr(0, 200));
      return;
    }
    bool failed = false;
    for (const auto& result : doc["results"].GetArray()) {
      const int64_t index = GetInt(result, "index");
      const std::string status = result.HasMember("body") ? GetStr(result["body"], "status") : "";
      if (GetInt(result, "status") != 200 || index < 0 || size_t(index) >= jobs.size() || status.empty()) {
        s_.errors.fetch_add(1, std::memory_order_relaxed);
        ++rec_.errors[size_t(Kind::kBatch)];
        rec_.Note("batch operation: " + r.body.substr(0, 300));
        failed = true;
        continue;
      }
      Acknowledged(jobs[size_t(index)], status, opt_.progress + 1);
    }
    if (failed) Idle();
  }

  // The worker protocol: each claim carries the previous jobs' events, so a
  // job costs its share of one claim (plus its heartbeats in kProtocol).
  void Protocol(int max_jobs) {
    std::vector<Held> held, next;
    while (!s_.stop.load() && (!held.empty() || !s_.Done())) {
      // Nothing left to hand out: finish the held jobs without claiming more.
      const bool drained = s_.first_claims.load() >= opt_.jobs && s_.retries_pending.load() <= 0;
      const int want = drained && !held.empty() ? 0 : max_jobs;
      next.clear();
      if (!Claim(want, held, next)) {
        Idle();  // the held jobs stay held; their lease runs out if this persists
        continue;
      }
      held.clear();
      for (Held& job : next) {
        job.events = opt_.mode == Mode::kProtocolBatch ? opt_.progress + 1 : 1;
        if (opt_.mode == Mode::kProtocol && !Heartbeats(job)) continue;
        held.push_back(std::move(job));
      }
      if (held.empty() && want > 0) Idle();  // nothing was due
    }
  }

  // Progress rides on heartbeats; false when the store says to stop.
  bool Heartbeats(const Held& job) {
    for (int i = 0; i < opt_.progress; ++i) {
      const std::string body = Body([&](Writer& w) {
        w.StartObject();
        Str(w, "worker_id", worker_id_);
        w.Key("lease_ms");
        w.Int(opt_.lease_ms);
        w.Key("percent");
        w.Int(Percent(i, opt_.progress));
        w.EndObject();
      });
      const Response r = http_.Post("/v1/jobs/" + job.id + "/heartbeat", body);
      if (!Count(Kind::kHeartbeat, r, "heartbeat")) return false;
      s_.events.fetch_add(1, std::memory_order_relaxed);  // a heartbeat is a progressed event
      rapidjson::Document doc;
      doc.Parse(r.body.c_str());
      if (doc.HasParseError() || !GetBool(doc, "keep_working")) {
        s_.errors.fetch_add(1, std::memory_order_relaxed);
        rec_.Note("heartbeat said stop: " + r.body.substr(0, 200));
        return false;
      }
    }
    return true;
  }

  static std::string StatusOf(const std::string& body) {
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    const std::string status = doc.HasParseError() ? "" : GetStr(doc, "status");
    return status.empty() ? "?" : status;
  }

  Shared& s_;
  const Options& opt_;
  Recorder& rec_;
  HttpClient http_;
  std::string worker_id_;
};

}  // namespace

void Shared::Fatal(const std::string& why) {
  {
    std::lock_guard lock(fatal_mu);
    if (fatal.empty()) fatal = why;
  }
  stop = true;
}

bool Enqueue(Shared& s, Recorder& recorder) {
  const Options& opt = s.opt;
  s.ids.assign(size_t(opt.jobs), "");
  std::atomic<int64_t> next{0};
  std::atomic<bool> ok{true};
  std::mutex mu;
  auto run = [&] {
    HttpClient http(opt.url, opt.token);
    Recorder local;
    for (;;) {
      const int64_t first = next.fetch_add(opt.enqueue_batch);
      if (first >= opt.jobs || !ok) break;
      const int64_t last = std::min<int64_t>(opt.jobs, first + opt.enqueue_batch);
      rapidjson::StringBuffer b;
      Writer w(b);
      w.StartObject();
      w.Key("operations");
      w.StartArray();
      for (int64_t n = first; n < last; ++n) {
        w.StartObject();
        Str(w, "op", "enqueue");
        w.Key("job");
        w.StartObject();
        Str(w, "type", "form-fill");
        Str(w, "queue", opt.queue);
        w.Key("max_attempts");
        w.Int(3);
        // A fixed, short backoff: the errored jobs come back within the run.
        Str(w, "retry_backoff", "fixed");
        w.Key("retry_base_delay_ms");
        w.Int(opt.retry_delay_ms);
        w.Key("payload");
        w.StartObject();
        Str(w, "url", "https://example.com/form/" + std::to_string(n));
        w.Key("formData");
        w.StartObject();
        Str(w, "firstName", "John");
        Str(w, "lastName", "Doe");
        w.EndObject();
        w.EndObject();
        w.EndObject();
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      const Response r = http.Post("/v1/batch", b.GetString());
      local.Add(Kind::kEnqueue, r.ms, r.ok());
      rapidjson::Document doc;
      doc.Parse(r.body.c_str());
      if (!r.ok() || doc.HasParseError() || GetInt(doc, "failed") != 0 || !doc.HasMember("results") ||
          !doc["results"].IsArray()) {
        local.Note(Describe("enqueue batch", r));
        ok = false;
        break;
      }
      for (const auto& result : doc["results"].GetArray()) {
        const int64_t index = GetInt(result, "index");
        if (index < 0 || first + index >= last || !result.HasMember("body")) continue;
        s.ids[size_t(first + index)] = GetStr(result["body"], "job_id");
      }
    }
    std::lock_guard lock(mu);
    recorder.Merge(local);
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < opt.enqueue_threads; ++i) threads.emplace_back(run);
  for (auto& t : threads) t.join();
  for (const auto& id : s.ids) {
    if (id.empty()) return false;  // an answer without a job id: pollers need them all
  }
  return ok;
}

void RunWorker(Shared& shared, int index, Recorder& recorder) {
  Worker(shared, index, recorder).Run();
}

void RunPoller(Shared& s, int index, Recorder& rec) {
  HttpClient http(s.opt.url, s.opt.token);
  std::mt19937_64 random(0x5eed + uint64_t(index));
  std::uniform_int_distribution<size_t> pick(0, s.ids.size() - 1);
  while (!s.stop_pollers.load()) {
    const Response r = http.Get("/v1/jobs/" + s.ids[pick(random)]);
    rec.Add(Kind::kPoll, r.ms, r.ok());
    s.polls.fetch_add(1, std::memory_order_relaxed);
    if (!r.ok()) {
      s.errors.fetch_add(1, std::memory_order_relaxed);
      rec.Note(Describe("poll", r));
    }
  }
}

int64_t ServerCompleted(const Shared& s) {
  HttpClient http(s.opt.url, s.opt.token);
  const Response r = http.Get("/v1/jobs?status=completed&limit=1&queue=" + s.queue_escaped);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  return r.ok() && !doc.HasParseError() ? GetInt(doc, "total") : -1;
}

}  // namespace jobtrail::load
