// JobStore::WebhookAttempts: a webhook subscription's delivery attempts from
// their read model ("w" keys, projections/view_keys.h), newest first.
#include <fmt/format.h>

#include "projections/rocks_job_store.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;

Result<WebhookAttemptPage> RocksJobStore::WebhookAttempts(std::string_view webhook_id,
                                                          uint64_t before, size_t limit) {
  if (limit == 0) return InvalidArgument("limit must be at least 1");
  const std::string prefix = vk::WebhookAttemptPrefix(webhook_id);
  WebhookAttemptPage page;
  std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(rocksdb::ReadOptions()));
  // Newest first: from just below `before` (or the prefix's end) backwards.
  std::string start = before == 0 ? prefix + std::string(8, '\xff') + '\xff'
                                   : vk::WebhookAttemptKey(webhook_id, before);
  it->SeekForPrev(start);
  if (it->Valid() && before != 0 && it->key().ToStringView() == start) it->Prev();
  uint64_t last = 0;  // position of the last attempt taken
  for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() != prefix.size() + 8) continue;  // not a key this code writes
    if (page.attempts_json.size() == limit) {
      page.next_before = last;  // one more exists: the next page ends below it
      break;
    }
    page.attempts_json.emplace_back(it->value().ToStringView());
    last = vk::DecodeU64(key.substr(prefix.size()));
  }
  if (!it->status().ok()) return Internal(fmt::format("views: {}", it->status().ToString()));
  return page;
}

}  // namespace jobtrail
