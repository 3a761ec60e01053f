#include "http/webhooks/http_sender.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <chrono>
#include <mutex>

#include "http/webhooks/address_policy.h"

namespace jobtrail::webhooks {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { (void)curl_global_init(CURL_GLOBAL_DEFAULT); });  // checked by curl_easy_init
}

Result<std::unique_ptr<HttpSender>> HttpSender::Create(SenderOptions options) {
  InitCurlOnce();
  std::unique_ptr<HttpSender> sender(new HttpSender(std::move(options)));
  sender->curl_ = curl_easy_init();
  if (sender->curl_ == nullptr) return Internal("curl_easy_init failed");
  return sender;
}

HttpSender::~HttpSender() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
}

curl_socket_t HttpSender::OpenSocket(void* self, curlsocktype, curl_sockaddr* address) {
  auto* sender = static_cast<HttpSender*>(self);
  if (!sender->options_.allow_private &&
      !IsPublicAddress(&address->addr, socklen_t(address->addrlen))) {
    sender->refused_ = AddressText(&address->addr, socklen_t(address->addrlen));
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

size_t HttpSender::DropAnswer(char*, size_t size, size_t count, void* self) {
  auto* sender = static_cast<HttpSender*>(self);
  sender->answer_bytes_ += size * count;
  // Returning less than given ends the transfer: a receiver that answers
  // without end cannot hold the thread.
  return sender->answer_bytes_ > kMaxAnswerBytes ? 0 : size * count;
}

int HttpSender::Progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* sender = static_cast<HttpSender*>(self);
  return sender->options_.stop != nullptr && sender->options_.stop->load() ? 1 : 0;
}

SendResult HttpSender::Post(const OutgoingPost& post) {
  SendResult out;
  refused_.clear();
  answer_bytes_ = 0;
  curl_easy_reset(curl_);  // keeps the connection cache; forgets last options
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : post.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  // No "Expect: 100-continue" round trip for large bodies.
  headers = curl_slist_append(headers, "Expect:");
  CURL* c = curl_;
  // Every setopt below takes a valid option and value; their results are
  // CURLE_OK by construction (a failure would surface in perform).
  (void)curl_easy_setopt(c, CURLOPT_URL, post.url.c_str());
  (void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  (void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  (void)curl_easy_setopt(c, CURLOPT_PROXY, "");  // ignore http_proxy & co.
  (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  (void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(options_.timeout_ms));
  (void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(options_.timeout_ms));
  (void)curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  (void)curl_easy_setopt(c, CURLOPT_POST, 1L);
  (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, post.body.data());
  (void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(post.body.size()));
  (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  (void)curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &HttpSender::OpenSocket);
  (void)curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, this);
  (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &HttpSender::DropAnswer);
  (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
  (void)curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  (void)curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &HttpSender::Progress);
  (void)curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);

  const auto started = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(c);
  out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  long status = 0;
  (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);  // 0 when none
  curl_slist_free_all(headers);
  out.status_code = int(status);
  if (!refused_.empty()) {
    out.status_code = 0;
    out.refused_address = refused_;
    out.error = "the address the host resolved to is loopback or private (refused: the server "
                "does not run with --webhook-allow-private)";
    return out;
  }
  if (rc == CURLE_WRITE_ERROR && status >= 200 && status < 300) {
    return out;  // delivered; only its overlong answer was cut off
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    out.error = fmt::format("timed out after {} ms", options_.timeout_ms);
    return out;
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    out.error = "aborted: the server is shutting down";
    return out;
  }
  if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR) {
    out.error = curl_easy_strerror(rc);
    return out;
  }
  if (status >= 200 && status < 300) return out;
  if (status >= 300 && status < 400) {
    out.error = fmt::format("HTTP {} (redirects are not followed)", status);
  } else {
    out.error = fmt::format("HTTP {}", status);
  }
  return out;
}

}  // namespace jobtrail::webhooks
