// Seeds a jobtrail server with N jobs through POST /v1/batch and writes
// their ids, one per line, for bench/http/poll.lua.
//
//   jobtrail_seed_jobs BASE_URL JOBS IDS_FILE [BATCH=500] [CONNECTIONS=4]
//
// Each job gets a realistic status document: a payload, labels, an owner;
// every fourth is started and given progress, so documents differ in size
// the way a live system's do.
#include <curl/curl.h>
#include <fmt/format.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// POSTs `body`; returns the response body, or "" after printing an error.
std::string Post(CURL* curl, const std::string& url, const std::string& body) {
  std::string out;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK || status != 200) {
    std::fprintf(stderr, "POST %s: %s %ld %s\n", url.c_str(), curl_easy_strerror(rc), status,
                 out.substr(0, 300).c_str());
    return "";
  }
  return out;
}

std::string EnqueueOp(size_t n) {
  return fmt::format(
      R"({{"op":"enqueue","job":{{"type":"{}","queue":"bench","owner":"user-{}",)"
      R"("external_ref":"ref-{}","payload":{{"url":"https://example.com/form/{}",)"
      R"("fields":{{"name":"Jane Doe","email":"jane{}@example.com"}}}},)"
      R"("priority":{},"max_attempts":3,"labels":{{"region":"eu","tier":"gold"}}}}}})",
      n % 3 == 0 ? "form-fill" : "pdf-render", n % 1000, n, n, n, n % 5);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s BASE_URL JOBS IDS_FILE [BATCH=500] [CONNECTIONS=4]\n", argv[0]);
    return 2;
  }
  const std::string base = argv[1];
  const size_t jobs = std::stoul(argv[2]);
  const std::string ids_file = argv[3];
  const size_t batch = argc > 4 ? std::stoul(argv[4]) : 500;
  const int connections = argc > 5 ? std::stoi(argv[5]) : 4;
  curl_global_init(CURL_GLOBAL_DEFAULT);

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::vector<std::string> ids;
  ids.reserve(jobs);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      CURL* curl = curl_easy_init();
      for (;;) {
        const size_t first = next.fetch_add(batch);
        if (first >= jobs || failed.load()) break;
        const size_t last = std::min(jobs, first + batch);
        std::string body = R"({"operations":[)";
        for (size_t n = first; n < last; ++n) body += (n > first ? "," : "") + EnqueueOp(n);
        body += "]}";
        const std::string out = Post(curl, base + "/v1/batch", body);
        rapidjson::Document doc;
        doc.Parse(out.c_str());
        if (out.empty() || doc.HasParseError()) {
          failed.store(true);
          break;
        }
        std::vector<std::string> mine;
        std::string progress = R"({"operations":[)";
        bool any = false;
        for (const auto& r : doc["results"].GetArray()) {
          if (r["status"].GetInt() != 201) {
            std::fprintf(stderr, "enqueue answered %d\n", r["status"].GetInt());
            continue;
          }
          const std::string id = r["body"]["job_id"].GetString();
          if (mine.size() % 4 == 0) {
            progress += std::string(any ? "," : "") + R"({"op":"append","job_id":")" + id +
                        R"(","events":[{"type":"started","data":{"worker_id":"w1"}},)"
                        R"({"type":"progressed","data":{"percent":42.5,"message":"page 3 of 7",)"
                        R"("step":"upload","items":{"processed":3,"total":7}}}]})";
            any = true;
          }
          mine.push_back(id);
        }
        progress += "]}";
        if (any && Post(curl, base + "/v1/batch", progress).empty()) failed.store(true);
        std::lock_guard lock(mu);
        ids.insert(ids.end(), mine.begin(), mine.end());
      }
      curl_easy_cleanup(curl);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ofstream out(ids_file);
  for (const std::string& id : ids) out << id << '\n';
  std::printf("seeded %zu jobs in %.1f s (%.0f jobs/s) -> %s\n", ids.size(), seconds,
              double(ids.size()) / seconds, ids_file.c_str());
  return failed.load() || ids.size() != jobs ? 1 : 0;
}
