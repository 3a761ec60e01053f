// One keep-alive HTTP connection to a jobtrail server (one CURL easy handle,
// reused for every request of one thread), timing each request.
#pragma once

#include <curl/curl.h>

#include <string>

namespace jobtrail::load {

struct Response {
  long status = 0;          // 0: no HTTP answer (see transport_error)
  std::string body;
  double ms = 0;            // wall time of the whole request
  std::string transport_error;
  bool refused = false;     // nothing listens there (any more): the server is gone
  bool ok() const { return status >= 200 && status < 300; }
};

class HttpClient {
 public:
  HttpClient(std::string base_url, const std::string& token);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Response Post(const std::string& path, const std::string& body);
  Response Get(const std::string& path);

 private:
  Response Perform();

  std::string base_;
  std::string url_;
  CURL* curl_;
  curl_slist* headers_ = nullptr;
};

}  // namespace jobtrail::load
