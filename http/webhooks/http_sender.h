#pragma once
// Sends one webhook POST with libcurl, under the SSRF rules:
//   - http and https only (CURLOPT_PROTOCOLS_STR), redirects never followed
//     (a 3xx is a failed attempt), no proxy from the environment;
//   - the address curl is about to connect to is checked in its
//     open-socket callback, after DNS resolution and for every connection,
//     so a name that resolves to a private address (or starts to: DNS
//     rebinding) is refused unless private addresses are allowed;
//   - a timeout covers the whole attempt; a transfer in flight is aborted
//     when `stop` turns true (shutdown).
// The answer's body is read and dropped (at most kMaxAnswerBytes). Error
// texts are curl's generic ones (never its detailed buffer, which names
// hosts and addresses): they go into the job's history, which the job's
// owner reads even when an admin's subscription made the attempt.
//
// Not thread-safe: one sender per delivery thread (it keeps curl's handle,
// and with it a connection cache, between attempts).
#include <curl/curl.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail::webhooks {

inline constexpr size_t kMaxAnswerBytes = 64 * 1024;

struct SenderOptions {
  bool allow_private = false;
  Millis timeout_ms = 10000;
  std::string user_agent = "jobtrail-webhooks/1";
  const std::atomic<bool>* stop = nullptr;  // may be null
};

struct OutgoingPost {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct SendResult {
  int status_code = 0;  // the answer's status; 0: there was none
  std::string error;    // empty: a 2xx answer (delivered)
  Millis duration_ms = 0;
  std::string refused_address;  // set when the address policy refused it (for the log)
  bool delivered() const { return error.empty(); }
};

class HttpSender {
 public:
  // Errors: kInternal (libcurl could not be set up).
  static Result<std::unique_ptr<HttpSender>> Create(SenderOptions options);
  ~HttpSender();
  HttpSender(const HttpSender&) = delete;
  HttpSender& operator=(const HttpSender&) = delete;

  SendResult Post(const OutgoingPost& post);

 private:
  explicit HttpSender(SenderOptions options) : options_(std::move(options)) {}

  SenderOptions options_;
  CURL* curl_ = nullptr;
  std::string refused_;  // set by the open-socket callback for one attempt
  size_t answer_bytes_ = 0;

  static curl_socket_t OpenSocket(void* self, curlsocktype purpose, curl_sockaddr* address);
  static size_t DropAnswer(char* data, size_t size, size_t count, void* self);
  static int Progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
};

// curl_global_init, once per process (it is not thread-safe itself).
void InitCurlOnce();

}  // namespace jobtrail::webhooks
