#pragma once
// A webhook receiver for the tests: a Pistache server on 127.0.0.1 (port 0)
// that records every request and answers with scripted statuses (then 200).
// Tests wait on it with WaitForPosts (a condition variable, never a sleep).
#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace jobtrail::testing {

struct ReceivedPost {
  std::string method;
  std::string path;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  int answered = 0;

  std::string Header(std::string name) const {
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class WebhookListener {
 public:
  WebhookListener() : state_(std::make_shared<State>()) {
    endpoint_ = std::make_shared<Pistache::Http::Endpoint>(
        Pistache::Address("127.0.0.1", Pistache::Port(0)));
    endpoint_->init(Pistache::Http::Endpoint::options().threads(1).flags(
        Pistache::Tcp::Options::ReuseAddr));
    endpoint_->setHandler(Pistache::Http::make_handler<Handler>(state_));
    endpoint_->serveThreaded();
    port_ = uint16_t(endpoint_->getPort());
  }
  ~WebhookListener() { endpoint_->shutdown(); }
  WebhookListener(const WebhookListener&) = delete;
  WebhookListener& operator=(const WebhookListener&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // The next answers' statuses, in order; afterwards `fallback`.
  void Script(std::vector<int> statuses, int fallback = 200) {
    std::lock_guard lock(state_->mu);
    state_->script.assign(statuses.begin(), statuses.end());
    state_->fallback = fallback;
  }

  bool WaitForPosts(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->posts.size() >= n; });
  }
  std::vector<ReceivedPost> posts() const {
    std::lock_guard lock(state_->mu);
    return state_->posts;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<int> script;
    int fallback = 200;
    std::vector<ReceivedPost> posts;
  };

  class Handler : public Pistache::Http::Handler {
   public:
    HTTP_PROTOTYPE(Handler)
    explicit Handler(std::shared_ptr<State> state) : state_(std::move(state)) {}

    void onRequest(const Pistache::Http::Request& req,
                   Pistache::Http::ResponseWriter writer) override {
      ReceivedPost post;
      post.method = Pistache::Http::methodString(req.method());
      post.path = req.resource();
      post.body = req.body();
      for (const auto& [name, raw] : req.headers().rawList()) {
        std::string key = name;
        std::transform(key.begin(), key.end(), key.begin(), ::tolower);
        post.headers[key] = raw.value();
      }
      int status = 200;
      {
        std::lock_guard lock(state_->mu);
        if (!state_->script.empty()) {
          status = state_->script.front();
          state_->script.pop_front();
        } else {
          status = state_->fallback;
        }
      }
      post.answered = status;
      if (status >= 300 && status < 400) {
        writer.headers().add<Pistache::Http::Header::Location>("/elsewhere");
      }
      writer.send(static_cast<Pistache::Http::Code>(status), "ok");
      {
        std::lock_guard lock(state_->mu);
        state_->posts.push_back(std::move(post));
      }
      state_->cv.notify_all();
    }

   private:
    std::shared_ptr<State> state_;
  };

  std::shared_ptr<State> state_;
  std::shared_ptr<Pistache::Http::Endpoint> endpoint_;
  uint16_t port_ = 0;
};

}  // namespace jobtrail::testing
