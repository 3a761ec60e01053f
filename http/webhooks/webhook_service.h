#pragma once
// The webhooks module, assembled: the subscription book, the dispatcher,
// the server's signing key and the HTTP routes (webhook_routes.cc). The
// serve command opens it after the store, mounts it on the server
// (ServerOptions::mounts) and starts it; tests do the same in-process.
//
// Files under the data directory: webhooks.json (subscriptions, 0600),
// webhooks-checkpoint (the dispatcher's), webhook.key (the callback
// secrets' key, 0600, unless one is given).
//
// Thread-safe.
#include <memory>
#include <string>
#include <vector>

#include "domain/error.h"
#include "http/server/router.h"
#include "http/webhooks/dispatcher.h"
#include "http/webhooks/subscription_book.h"
#include "projections/job_store.h"

namespace jobtrail::http {
struct ApiContext;
}

namespace jobtrail::webhooks {

struct WebhookOptions {
  std::string data_dir;
  // Let webhooks reach loopback and private addresses (address_policy.h):
  // for tests and closed networks only.
  bool allow_private = false;
  // Retry policy, timeout, threads, queue bound, jitter, and the tap the
  // store was opened with (dispatcher.h; without one the dispatcher reads
  // the log itself); allow_private, signing_key and checkpoint_path are
  // filled in by Open.
  DispatcherOptions dispatch;
  // The key callback secrets derive from; empty: <data-dir>/webhook.key,
  // created when absent.
  std::string signing_key;
};

class WebhookService {
 public:
  // `store` must outlive the service. Errors: kInvalidArgument (options),
  // kDataLoss (webhooks.json or the checkpoint damaged), kInternal.
  static Result<std::unique_ptr<WebhookService>> Open(JobStore& store, WebhookOptions options);
  ~WebhookService();

  // Registers the /v1/webhooks routes (and their access rows) and the
  // check of enqueues' callback_url. Call before the server builds its gate.
  void Mount(http::Router& router, http::ApiContext& context);
  void Start() { dispatcher_->Start(); }
  void Stop() { dispatcher_->Stop(); }

  JobStore& store() { return store_; }
  SubscriptionBook& book() { return *book_; }
  Dispatcher& dispatcher() { return *dispatcher_; }
  const WebhookOptions& options() const { return options_; }
  const std::string& signing_key() const { return options_.signing_key; }

 private:
  WebhookService(JobStore& store, WebhookOptions options)
      : store_(store), options_(std::move(options)) {}

  JobStore& store_;
  WebhookOptions options_;
  std::unique_ptr<SubscriptionBook> book_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

// Every route Mount registers (method, OpenAPI-style pattern): the OpenAPI
// document is checked against it, with http::ApiRouteList().
std::vector<http::RouteInfo> WebhookRouteList();

}  // namespace jobtrail::webhooks
