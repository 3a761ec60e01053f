#pragma once
// A small blocking HTTP/1.1 client for the tests, on libcurl. One client is
// one curl handle, so consecutive requests reuse the connection (keep-alive)
// unless the server closes it; new_connections() tells which happened.
//
// Not thread-safe: give each thread its own client.
#include <curl/curl.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace jobtrail::testing {

struct HttpResult {
  long status = 0;  // 0: the transfer failed (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error;
  long new_connections = 0;  // connections curl opened for this request

  std::string Header(const std::string& name) const {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    auto it = headers.find(key);
    return it == headers.end() ? std::string() : it->second;
  }
  bool HasHeader(const std::string& name) const {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    return headers.count(key) > 0;
  }
  rapidjson::Document Json() const {
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    return d;
  }
  // The error body's code ("" if the body is not an error body).
  std::string ErrorCode() const {
    rapidjson::Document d = Json();
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("error") ||
        !d["error"].IsObject() || !d["error"].HasMember("code")) {
      return "";
    }
    return d["error"]["code"].GetString();
  }
};

class HttpClient {
 public:
  explicit HttpClient(std::string base_url) : base_(std::move(base_url)) {
    curl_ = curl_easy_init();
  }
  ~HttpClient() { curl_easy_cleanup(curl_); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void set_base(std::string base_url) { base_ = std::move(base_url); }

  // Percent-encodes a query value.
  std::string Escape(const std::string& value) {
    char* escaped = curl_easy_escape(curl_, value.data(), int(value.size()));
    std::string out = escaped ? escaped : "";
    curl_free(escaped);
    return out;
  }

  HttpResult Get(const std::string& path, std::vector<std::string> headers = {}) {
    return Request("GET", path, "", std::move(headers));
  }
  HttpResult Post(const std::string& path, const std::string& body,
                  std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/json");
    return Request("POST", path, body, std::move(headers));
  }

  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& body, std::vector<std::string> headers) {
    HttpResult result;
    curl_easy_reset(curl_);
    const std::string url = base_ + path;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 10L);
    if (method == "POST" || !body.empty()) {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
    }
    // Do not wait for "100 Continue" on large bodies.
    headers.push_back("Expect:");
    curl_slist* list = nullptr;
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &HttpClient::OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &result);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &HttpClient::OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &result);
    const CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    if (rc != CURLE_OK) {
      result.error = curl_easy_strerror(rc);
      // A server that answers before reading the whole upload (413) may
      // reset the connection; keep the status if one arrived.
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &result.status);
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &result.new_connections);
    return result;
  }

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* user) {
    static_cast<HttpResult*>(user)->body.append(data, size * n);
    return size * n;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
      static_cast<HttpResult*>(user)->headers[name] = value;
    } else if (line.rfind("HTTP/", 0) == 0) {
      static_cast<HttpResult*>(user)->headers.clear();  // a new response (e.g. after 100)
    }
    return size * n;
  }

  std::string base_;
  CURL* curl_;
};

}  // namespace jobtrail::testing
