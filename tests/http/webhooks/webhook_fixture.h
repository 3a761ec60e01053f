#pragma once
// A real server (127.0.0.1:0, temp data dir) with the webhooks module
// mounted and its dispatcher running, over any LiveServerTest-derived
// fixture (ServerTest without auth, SecureServerTest with keys), plus a
// listener on loopback. The dispatcher uses the store's clock: tests with a
// manual clock move it past a backoff and Poke() instead of waiting.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <chrono>
#include <memory>
#include <string>

#include "http/v1/api_routes.h"
#include "http/security/crypto.h"
#include "http/app/http_server.h"
#include "http/webhooks/webhook_service.h"
#include "tests/http/live_server.h"
#include "tests/http/webhooks/webhook_listener.h"

namespace jobtrail::testing {

template <typename Base>
class WithWebhooks : public Base {
 protected:
  void TearDown() override {
    StopAll();
    Base::TearDown();
  }

  // Opens store, webhooks and server (in that order) on dir_.
  void StartAll(bool start_dispatcher = true) {
    JobStoreOptions store_options;
    store_options.data_dir = this->dir_;
    if (this->manual_clock_) store_options.clock = &this->clock_;
    tap_ = use_tap_ ? std::make_unique<webhooks::FeedTap>(tap_capacity_) : nullptr;
    store_options.observer = tap_.get();
    auto store = JobStore::Open(store_options);
    ASSERT_TRUE(store) << store.error().ToString();
    this->store_ = std::move(store).value();
    webhooks::WebhookOptions options = hook_options_;
    options.data_dir = this->dir_;
    options.dispatch.tap = tap_.get();
    auto hooks = webhooks::WebhookService::Open(*this->store_, options);
    ASSERT_TRUE(hooks) << hooks.error().ToString();
    hooks_ = std::move(hooks).value();
    http::ServerOptions server_options = this->options_;
    server_options.mounts.push_back([this](http::Router& router, http::ApiContext& context) {
      hooks_->Mount(router, context);
    });
    auto server = http::HttpServer::Start(*this->store_, server_options);
    ASSERT_TRUE(server) << server.error().ToString();
    this->server_ = std::move(server).value();
    this->base_ = "http://127.0.0.1:" + std::to_string(this->server_->port());
    this->client_ = std::make_unique<HttpClient>(this->base_);
    if (start_dispatcher) hooks_->Start();
  }
  // The reverse order: the server (its routes use the service), the
  // dispatcher (it appends to the store), the store.
  void StopAll() {
    this->client_.reset();
    if (this->server_) this->server_->Shutdown();
    this->server_.reset();
    if (hooks_) hooks_->Stop();
    hooks_.reset();
    this->store_.reset();
    tap_.reset();
  }

  webhooks::Dispatcher& dispatcher() { return hooks_->dispatcher(); }
  // Waits (on the dispatcher's condition, with a generous deadline) until
  // `n` attempts have been made and recorded since it started.
  bool WaitForAttempts(uint64_t n) {
    return dispatcher().WaitFor([n](const webhooks::DispatcherStats& s) { return s.attempts >= n; },
                                std::chrono::seconds(20));
  }
  // Moves the manual clock past a backoff and wakes the dispatcher.
  void Advance(Millis ms) {
    this->clock_.Advance(ms);
    dispatcher().Poke();
  }

  // What a receiver does (README): HMAC-SHA256 over "<t>.<body>" with the
  // secret, hex, compared with v1=; here computed with OpenSSL directly.
  static bool SignatureValid(const ReceivedPost& post, const std::string& secret) {
    const std::string header = post.Header("X-Jobtrail-Signature");
    const size_t comma = header.find(",v1=");
    if (header.rfind("t=", 0) != 0 || comma == std::string::npos) return false;
    const std::string t = header.substr(2, comma - 2);
    const std::string v1 = header.substr(comma + 4);
    const std::string signed_text = t + "." + post.body;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), int(secret.size()),
         reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac,
         &len);
    return http::HexEncode(std::string(reinterpret_cast<const char*>(mac), len)) == v1;
  }

  webhooks::WebhookOptions hook_options_ = [] {
    webhooks::WebhookOptions o;
    o.allow_private = true;  // the listener is on loopback
    o.dispatch.poll_ms = 10;
    o.dispatch.threads = 2;
    o.dispatch.timeout_ms = 5000;
    // One second between attempts, no jitter: tests move the clock by it.
    o.dispatch.retry = RetryPolicy{5, RetryPolicy::Backoff::kFixed, 1000, 1000, 0.0};
    return o;
  }();
  // With the store's tap (as serve runs it), or reading the log only.
  bool use_tap_ = true;
  size_t tap_capacity_ = 65536;
  std::unique_ptr<webhooks::FeedTap> tap_;
  std::unique_ptr<webhooks::WebhookService> hooks_;
  WebhookListener listener_;
};

}  // namespace jobtrail::testing
