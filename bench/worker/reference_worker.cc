// The reference worker: what a jobtrail worker does, over the HTTP API only.
// It claims jobs from a queue with a lease, heartbeats, reports progress and
// a log line, errors with a screenshot artifact now and then (the store then
// retries the job by its policy), and completes the rest. Used by the
// integration tests and as a load generator for benchmarks.
//
//   reference_worker --url http://127.0.0.1:8080 --queue forms --worker-id w1
//       [--token KEY] [--error-every N] [--max-jobs N] [--idle-polls N]
//       [--die-after N]
// Prints one line per job handled ("completed ID", "errored ID") and a
// summary; exits 0, or 1 on an unexpected HTTP answer.
#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <rapidjson/document.h>

#include <chrono>
#include <optional>
#include <cstdio>
#include <string>
#include <thread>

namespace {

struct Answer {
  long status = 0;
  std::string body;
};

class Api {
 public:
  Api(std::string url, std::string token) : url_(std::move(url)), token_(std::move(token)) {
    curl_ = curl_easy_init();
  }
  ~Api() { curl_easy_cleanup(curl_); }

  Answer Post(const std::string& path, const std::string& body) {
    Answer answer;
    curl_easy_reset(curl_);
    const std::string full = url_ + path;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    if (!token_.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
    curl_easy_setopt(curl_, CURLOPT_URL, full.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, long(body.size()));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Api::Collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &answer.body);
    if (curl_easy_perform(curl_) == CURLE_OK) {
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &answer.status);
    }
    curl_slist_free_all(headers);
    return answer;
  }

 private:
  static size_t Collect(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  std::string url_;
  std::string token_;
  CURL* curl_;
};

std::string Event(const std::string& type, const std::string& data) {
  return R"({"type":")" + type + R"(","data":)" + data + "}";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"jobtrail reference worker"};
  std::string url = "http://127.0.0.1:8080", queue = "default", worker_id = "reference-worker",
              token;
  int error_every = 0, max_jobs = 0, idle_polls = 1, die_after = 0;
  app.add_option("--url", url, "Server base URL")->capture_default_str();
  app.add_option("--queue", queue, "Queue to claim from")->capture_default_str();
  app.add_option("--worker-id", worker_id, "This worker's id")->capture_default_str();
  app.add_option("--token", token, "API key or JWT (Authorization: Bearer)");
  app.add_option("--error-every", error_every, "Fail every Nth job with a screenshot (0: never)");
  app.add_option("--max-jobs", max_jobs, "Stop after this many jobs (0: no limit)");
  app.add_option("--idle-polls", idle_polls, "Stop after this many empty claims in a row")
      ->capture_default_str();
  app.add_option("--die-after", die_after,
                 "Claim the Nth job, then exit without finishing it (a crashed worker)");
  CLI11_PARSE(app, argc, argv);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  Api api(url, token);
  int handled = 0, errored = 0, idle = 0;
  // The worker protocol (two requests a job): a heartbeat carries the
  // progress, and the job's final events ride on the claim of the next one
  // ("append"), so finishing one job and fetching the next is one round
  // trip and one commit on the server.
  std::string finish;         // the held job's final append, not sent yet
  std::string finish_line;    // what to print once the server took it
  auto claim_next = [&](int want) -> std::optional<rapidjson::Document> {
    std::string body = R"({"worker_id":")" + worker_id + R"(","lease_ms":30000,"max_jobs":)" +
                       std::to_string(want);
    if (!finish.empty()) body += R"(,"append":[)" + finish + "]";
    body += "}";
    Answer claim = api.Post("/v1/queues/" + queue + "/claim", body);
    rapidjson::Document doc;
    doc.Parse(claim.body.c_str());
    if (claim.status != 200 || doc.HasParseError() || !doc.HasMember("jobs")) {
      std::fprintf(stderr, "claim answered %ld: %s\n", claim.status, claim.body.c_str());
      return std::nullopt;
    }
    if (!finish.empty()) {
      const auto& appended = doc["appended"][0];
      if (appended.HasMember("error")) {
        std::fprintf(stderr, "report answered %s\n", claim.body.c_str());
        return std::nullopt;
      }
      std::printf("%s\n", finish_line.c_str());
      finish.clear();
    }
    return doc;
  };
  while ((max_jobs == 0 || handled < max_jobs) && idle < idle_polls) {
    auto doc = claim_next(1);
    if (!doc) return 1;
    if ((*doc)["jobs"].Empty()) {
      ++idle;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval
      continue;
    }
    idle = 0;
    const std::string id = (*doc)["jobs"][0]["job_id"].GetString();
    const std::string base = "/v1/jobs/" + id;
    ++handled;
    if (die_after > 0 && handled == die_after) {
      std::printf("died holding %s\n", id.c_str());
      return 0;  // the lease runs out; the store retries the job
    }
    Answer beat = api.Post(base + "/heartbeat", R"({"worker_id":")" + worker_id +
                                                    R"(","percent":50,"message":"filling form"})");
    rapidjson::Document b;
    b.Parse(beat.body.c_str());
    if (beat.status != 200 || b.HasParseError() || !b["keep_working"].GetBool()) {
      std::printf("stopped %s\n", id.c_str());  // cancelled meanwhile
      continue;
    }
    const std::string logged =
        Event("logged", R"({"level":"INFO","message":"form submitted","subjects":{"worker":")" +
                            worker_id + R"("}})");
    std::string last;
    if (error_every > 0 && handled % error_every == 0) {
      ++errored;
      last = Event("errored", R"({"error_type":"FormFillError","message":"Element not found",)"
                              R"("stage":"form-filling","artifacts":[{"kind":"screenshot",)"
                              R"("url":"https://s3.example.com/)" + id + R"(.png"}]})");
      finish_line = "errored " + id;
    } else {
      last = Event("completed", R"({"result":{"ok":true}})");
      finish_line = "completed " + id;
    }
    finish = R"({"job_id":")" + id + R"(","events":[)" + logged + "," + last + "]}";
  }
  if (!finish.empty() && !claim_next(0)) return 1;  // report the last job, take no more
  std::printf("handled %d job(s), %d errored\n", handled, errored);
  curl_global_cleanup();
  return 0;
}
