// Crash torture under HTTP load: the real `jobtrail serve` runs job
// lifecycles for several concurrent clients (enqueue with ids the client
// chose, claim, progress and completion with client event ids, plus writes
// the store must refuse), and is killed with SIGKILL at random moments,
// again and again. After each kill: `jobtrail verify` passes (log order,
// hash chain, read models equal a fresh fold); after each restart: every
// write answered 2xx is there, no write answered 4xx is, and each job's
// status document agrees with its events. Clients retry a write whose
// answer they never got with the same ids (that is what the ids are for)
// and carry on where they were.
//
// CI runs 12 rounds (well under a minute). For minutes of it:
//   JOBTRAIL_TORTURE_ROUNDS=300 JOBTRAIL_TORTURE_CLIENTS=8 \
//     build/tests/ops/ops_process_test --gtest_filter='CrashTorture*'
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/cli/subprocess.h"
#include "tests/http/live_server.h"
#include "tests/cli/server_process.h"

namespace jobtrail::testing {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

std::string Uuid(std::mt19937_64& rng) {
  const uint64_t a = rng();
  const uint64_t b = rng();
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-4%03x-8%03x-%012llx", unsigned(a >> 32),
                unsigned(a >> 16) & 0xffff, unsigned(a) & 0xfff, unsigned(b >> 48) & 0xfff,
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return out;
}

// What the clients were told, for the checks after each restart.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::set<std::string>> acked_events;    // job -> event ids (2xx)
  std::map<std::string, std::set<std::string>> refused_events;  // job -> event ids (4xx)
  std::set<std::string> acked_jobs;     // enqueues answered 201
  std::set<std::string> acked_claims;   // jobs whose claim answered it
  std::atomic<uint64_t> acknowledged{0};  // writes answered 2xx
  std::atomic<uint64_t> refused{0};       // writes answered 4xx (as they should be)
  std::atomic<uint64_t> unanswered{0};    // no answer (the kill): retried later
  std::atomic<uint64_t> lifecycles{0};    // jobs taken to completed
};

// One client: its own queue and worker, one job at a time, resumable at
// any step after a crash (its state survives the rounds).
class TortureClient {
 public:
  TortureClient(int id, uint64_t seed)
      : queue_("torture-" + std::to_string(id)), worker_("worker-" + std::to_string(id)),
        rng_(seed) {}

  // Runs lifecycles against `base` until a request gets no answer (the
  // server was killed) or `stop`.
  void Run(const std::string& base, Ledger& ledger, const std::atomic<bool>& stop) {
    HttpClient http(base);
    while (!stop.load() && Step(http, ledger)) {
    }
  }

 private:
  enum Stage { kNew, kEnqueue, kClaim, kProgress, kComplete };

  // False when the server did not answer.
  bool Step(HttpClient& http, Ledger& ledger) {
    switch (stage_) {
      case kNew:
        job_ = Uuid(rng_);
        progress_id_ = Uuid(rng_);
        complete_id_ = Uuid(rng_);
        stage_ = kEnqueue;
        return true;
      case kEnqueue: {
        HttpResult r = http.Post(
            "/v1/jobs",
            R"({"job_id":")" + job_ + R"(","type":"torture","queue":")" + queue_ + R"("})",
            {"Idempotency-Key: " + job_});
        if (!Answered(r, ledger)) return false;
        EXPECT_EQ(r.status, 201) << r.body;
        std::lock_guard lock(ledger.mu);
        ledger.acked_jobs.insert(job_);
        ledger.acknowledged.fetch_add(1);
        stage_ = kClaim;
        return true;
      }
      case kClaim: {
        HttpResult r = http.Post("/v1/queues/" + queue_ + "/claim",
                                 R"({"worker_id":")" + worker_ + R"(","lease_ms":86400000})");
        if (!Answered(r, ledger)) return false;
        EXPECT_EQ(r.status, 200) << r.body;
        auto doc = r.Json();
        if (!doc.HasParseError() && doc["jobs"].Size() == 1) {
          EXPECT_STREQ(doc["jobs"][0]["job_id"].GetString(), job_.c_str());
          std::lock_guard lock(ledger.mu);
          ledger.acked_claims.insert(job_);
          ledger.acknowledged.fetch_add(1);
          stage_ = kProgress;
          return true;
        }
        // Nothing to claim: an earlier claim landed but its answer was lost.
        HttpResult job = http.Get("/v1/jobs/" + job_);
        if (!Answered(job, ledger)) return false;
        EXPECT_STREQ(job.Json()["status"].GetString(), "running") << job.body;
        stage_ = kProgress;
        return true;
      }
      case kProgress: {
        if (rng_() % 3 == 0 && !Refused(http, ledger, "If-Match: 1", "progressed", 409)) {
          return false;
        }
        HttpResult r = http.Post("/v1/jobs/" + job_ + "/events",
                                 R"({"type":"progressed","event_id":")" + progress_id_ +
                                     R"(","data":{"percent":50,"message":"half way"}})");
        if (!Answered(r, ledger)) return false;
        EXPECT_EQ(r.status, 200) << r.body;
        Acked(ledger, progress_id_);
        stage_ = kComplete;
        return true;
      }
      case kComplete: {
        HttpResult r = http.Post("/v1/jobs/" + job_ + "/events",
                                 R"({"type":"completed","event_id":")" + complete_id_ +
                                     R"(","data":{"result":{"ok":true}}})");
        if (!Answered(r, ledger)) return false;
        EXPECT_EQ(r.status, 200) << r.body;
        Acked(ledger, complete_id_);
        ledger.lifecycles.fetch_add(1);
        // A final job takes no more events: 422, and nothing is appended.
        if (rng_() % 3 == 0 && !Refused(http, ledger, "", "progressed", 422)) return false;
        stage_ = kNew;
        return true;
      }
    }
    return false;
  }

  // A write the store must refuse with `status`; its event id must never
  // show up.
  bool Refused(HttpClient& http, Ledger& ledger, const std::string& header,
               const std::string& type, long status) {
    const std::string event_id = Uuid(rng_);
    std::vector<std::string> headers;
    if (!header.empty()) headers.push_back(header);
    HttpResult r = http.Post("/v1/jobs/" + job_ + "/events",
                             R"({"type":")" + type + R"(","event_id":")" + event_id +
                                 R"(","data":{}})",
                             headers);
    if (!Answered(r, ledger)) return false;
    EXPECT_EQ(r.status, status) << r.body;
    std::lock_guard lock(ledger.mu);
    ledger.refused_events[job_].insert(event_id);
    ledger.refused.fetch_add(1);
    return true;
  }

  void Acked(Ledger& ledger, const std::string& event_id) {
    std::lock_guard lock(ledger.mu);
    ledger.acked_events[job_].insert(event_id);
    ledger.acknowledged.fetch_add(1);
  }

  static bool Answered(const HttpResult& r, Ledger& ledger) {
    if (r.status != 0) {
      EXPECT_LT(r.status, 500) << r.body;
      return r.status < 500;
    }
    ledger.unanswered.fetch_add(1);
    return false;
  }

  std::string queue_;
  std::string worker_;
  std::mt19937_64 rng_;
  Stage stage_ = kNew;
  std::string job_;
  std::string progress_id_;
  std::string complete_id_;
};

std::string StatusAfter(const std::string& last_type) {
  if (last_type == "enqueued") return "pending";
  if (last_type == "completed") return "completed";
  return "running";  // started, progressed
}

// Every acknowledged write is there, no refused one is, and every job's
// status document is the fold of its events. Returns the writes missing.
uint64_t CheckAgainstLedger(HttpClient& client, Ledger& ledger) {
  std::lock_guard lock(ledger.mu);
  uint64_t lost = 0;
  for (const std::string& job : ledger.acked_jobs) {
    HttpResult events = client.Get("/v1/jobs/" + job + "/events?limit=1000");
    HttpResult status = client.Get("/v1/jobs/" + job);
    if (events.status != 200 || status.status != 200) {
      ADD_FAILURE() << "acknowledged job " << job << " is gone: " << events.body;
      lost += 1 + ledger.acked_events[job].size();
      continue;
    }
    auto doc = events.Json();
    std::set<std::string> ids;
    std::vector<std::string> types;
    for (const auto& e : doc["events"].GetArray()) {
      ids.insert(e["event_id"].GetString());
      types.emplace_back(e["type"].GetString());
    }
    for (const std::string& id : ledger.acked_events[job]) {
      if (ids.count(id) == 0) {
        ++lost;
        ADD_FAILURE() << "acknowledged event " << id << " of job " << job << " is gone";
      }
    }
    for (const std::string& id : ledger.refused_events[job]) {
      EXPECT_EQ(ids.count(id), 0u) << "refused event " << id << " of job " << job << " is there";
    }
    if (ledger.acked_claims.count(job) != 0 &&
        (types.size() < 2 || types[1] != "started")) {
      ++lost;
      ADD_FAILURE() << "acknowledged claim of job " << job << " is gone";
    }
    auto view = status.Json();
    EXPECT_EQ(view["version"].GetUint64(), types.size()) << job << ": " << status.body;
    EXPECT_EQ(view["status"].GetString(), StatusAfter(types.back())) << job << ": " << status.body;
  }
  return lost;
}

class CrashTortureTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeHttpTempDir("jobtrail-torture"); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  static bool WaitReady(HttpClient& client) {
    for (int i = 0; i < 1'000'000; ++i) {
      if (client.Get("/readyz").status == 200) return true;
      std::this_thread::yield();
    }
    return false;
  }
  std::string dir_;
};

TEST_F(CrashTortureTest, SigkillUnderHttpLoadLosesNothingAcknowledged) {
  const int rounds = EnvInt("JOBTRAIL_TORTURE_ROUNDS", 12);
  const int client_count = EnvInt("JOBTRAIL_TORTURE_CLIENTS", 4);
  std::mt19937_64 rng(uint64_t(EnvInt("JOBTRAIL_TORTURE_SEED", 20261207)));
  std::vector<TortureClient> clients;
  for (int c = 0; c < client_count; ++c) clients.emplace_back(c, rng());
  Ledger ledger;
  uint64_t lost = 0;
  int kills = 0;
  for (int round = 0; round < rounds; ++round) {
    ServerProcess server(dir_);
    ASSERT_FALSE(server.base().empty()) << "round " << round;
    HttpClient probe(server.base());
    ASSERT_TRUE(WaitReady(probe)) << "round " << round;
    lost += CheckAgainstLedger(probe, ledger);
    // Kill after a random number of further acknowledged writes: the kill
    // lands while every client has a request in flight.
    const uint64_t kill_at =
        ledger.acknowledged.load() + 40 + rng() % uint64_t(100 * client_count);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (TortureClient& c : clients) {
      threads.emplace_back([&, base = server.base()] { c.Run(base, ledger, stop); });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (ledger.acknowledged.load() < kill_at && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    EXPECT_GE(ledger.acknowledged.load(), kill_at) << "round " << round << " made no progress";
    const int status = server.Stop(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    ++kills;
    stop.store(true);
    for (auto& t : threads) t.join();
    ProcessResult verify = RunProcess({JOBTRAIL_BINARY, "verify", "--data-dir", dir_});
    ASSERT_EQ(verify.exit_code, 0) << "round " << round << ": " << verify.out << verify.err;
  }
  ServerProcess server(dir_);
  HttpClient probe(server.base());
  ASSERT_TRUE(WaitReady(probe));
  lost += CheckAgainstLedger(probe, ledger);
  server.Stop(SIGTERM);
  std::printf(
      "[ torture ] %d SIGKILLs under %d clients: writes acknowledged %llu, lost %llu; refused "
      "(4xx) %llu, all absent; unanswered (retried with the same ids) %llu; lifecycles "
      "completed %llu\n",
      kills, client_count, static_cast<unsigned long long>(ledger.acknowledged.load()),
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(ledger.refused.load()),
      static_cast<unsigned long long>(ledger.unanswered.load()),
      static_cast<unsigned long long>(ledger.lifecycles.load()));
  EXPECT_GE(kills, 10);
  EXPECT_EQ(lost, 0u);
  EXPECT_GT(ledger.lifecycles.load(), 0u);
}

}  // namespace
}  // namespace jobtrail::testing
