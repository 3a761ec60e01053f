#include "http/webhooks/webhook_service.h"

#include <filesystem>

#include "http/webhooks/signature.h"

namespace jobtrail::webhooks {

Result<std::unique_ptr<WebhookService>> WebhookService::Open(JobStore& store,
                                                             WebhookOptions options) {
  if (options.data_dir.empty()) return InvalidArgument("webhooks need the data directory");
  const std::filesystem::path dir(options.data_dir);
  if (options.signing_key.empty()) {
    BOOST_OUTCOME_TRY(key, LoadOrCreateSigningKey(options.data_dir));
    options.signing_key = std::move(key);
  }
  options.dispatch.allow_private = options.allow_private;
  options.dispatch.signing_key = options.signing_key;
  options.dispatch.checkpoint_path = (dir / "webhooks-checkpoint").string();
  std::unique_ptr<WebhookService> service(new WebhookService(store, std::move(options)));
  BOOST_OUTCOME_TRY(book, SubscriptionBook::Open((dir / "webhooks.json").string()));
  service->book_ = std::move(book);
  BOOST_OUTCOME_TRY(dispatcher,
                    Dispatcher::Create(store, *service->book_, service->options_.dispatch));
  service->dispatcher_ = std::move(dispatcher);
  return service;
}

WebhookService::~WebhookService() {
  if (dispatcher_) dispatcher_->Stop();
}

}  // namespace jobtrail::webhooks
