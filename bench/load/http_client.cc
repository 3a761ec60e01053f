#include "bench/load/http_client.h"

#include <chrono>

namespace jobtrail::load {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

HttpClient::HttpClient(std::string base_url, const std::string& token)
    : base_(std::move(base_url)), curl_(curl_easy_init()) {
  headers_ = curl_slist_append(headers_, "Content-Type: application/json");
  // Pistache 0.0.5 closes HTTP/1.1 connections whose request carries no
  // Connection header (STACK.md); asking for keep-alive explicitly keeps one
  // connection per thread whether or not the server has the fix, so the
  // figures never include a TCP connect per request.
  headers_ = curl_slist_append(headers_, "Connection: keep-alive");
  // No "Expect: 100-continue" round trip for bodies over 1 KiB.
  headers_ = curl_slist_append(headers_, "Expect:");
  if (!token.empty()) headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + token).c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
}

HttpClient::~HttpClient() {
  curl_easy_cleanup(curl_);
  curl_slist_free_all(headers_);
}

Response HttpClient::Post(const std::string& path, const std::string& body) {
  url_ = base_ + path;
  curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl_, CURLOPT_POST, 1L);
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
  return Perform();
}

Response HttpClient::Get(const std::string& path) {
  url_ = base_ + path;
  curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
  return Perform();
}

Response HttpClient::Perform() {
  Response r;
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
  const auto start = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(curl_);
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
  } else {
    r.transport_error = curl_easy_strerror(rc);
    r.refused = rc == CURLE_COULDNT_CONNECT;
  }
  return r;
}

}  // namespace jobtrail::load
