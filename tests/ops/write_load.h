#pragma once
// Concurrent HTTP clients driving whole job lifecycles against a real
// server (enqueue with a job id the client chose, started, progressed,
// completed), recording every write the server acknowledged, so a test can
// take "everything acknowledged so far" at any moment and look for it later.
#include <rapidjson/document.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/http/http_client.h"

namespace jobtrail::testing {

class WriteLoad {
 public:
  // `prefix` makes the job ids ("<prefix>-<thread>-<n>") unique per load.
  WriteLoad(const std::string& base, int threads, std::string prefix,
            std::vector<std::string> headers = {})
      : prefix_(std::move(prefix)), headers_(std::move(headers)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, base, t] { Drive(base, t); });
    }
  }
  ~WriteLoad() { Stop(); }

  void Stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Job id -> the highest version the server acknowledged for it.
  std::map<std::string, uint64_t> Acknowledged() {
    std::lock_guard lock(mu_);
    return acknowledged_;
  }
  uint64_t writes() const { return writes_.load(); }
  std::string failure() {
    std::lock_guard lock(mu_);
    return failure_;
  }
  // Waits until `n` more writes than now are acknowledged (bounded by a
  // count of polls, not by time); false if the load failed instead.
  bool WaitForMore(uint64_t n) {
    const uint64_t target = writes_.load() + n;
    for (long spin = 0; spin < 200'000'000L; ++spin) {
      if (writes_.load() >= target) return true;
      if (failed_.load()) return false;
      std::this_thread::yield();
    }
    return false;
  }

 private:
  void Drive(const std::string& base, int t) {
    HttpClient client(base);
    for (uint64_t n = 0; !stop_.load(); ++n) {
      const std::string job = prefix_ + "-" + std::to_string(t) + "-" + std::to_string(n);
      const std::string events = "/v1/jobs/" + job + "/events";
      const std::vector<std::pair<std::string, std::string>> steps = {
          {"/v1/jobs", R"({"type":"load","queue":"load-)" + std::to_string(t) +
                           R"(","job_id":")" + job + R"("})"},
          {events, R"({"type":"started","data":{"worker_id":"w)" + std::to_string(t) + R"("}})"},
          {events, R"({"type":"progressed","data":{"percent":50,"message":"half way"}})"},
          {events, R"({"type":"completed","data":{"result":{"n":)" + std::to_string(n) + "}}}"},
      };
      for (const auto& [path, body] : steps) {
        HttpResult r = client.Post(path, body, headers_);
        if (r.status != 200 && r.status != 201) {
          std::lock_guard lock(mu_);
          failure_ = path + " answered " + std::to_string(r.status) + ": " + r.body + r.error;
          failed_.store(true);
          return;
        }
        rapidjson::Document d = r.Json();
        const uint64_t version =
            !d.HasParseError() && d.IsObject() && d.HasMember("version") && d["version"].IsUint64()
                ? d["version"].GetUint64()
                : 0;
        {
          std::lock_guard lock(mu_);
          acknowledged_[job] = version;
        }
        writes_.fetch_add(1);
      }
    }
  }

  const std::string prefix_;
  const std::vector<std::string> headers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> writes_{0};
  std::mutex mu_;
  std::map<std::string, uint64_t> acknowledged_;  // GUARDED_BY(mu_)
  std::string failure_;                           // GUARDED_BY(mu_)
};

}  // namespace jobtrail::testing
