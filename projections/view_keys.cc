#include "projections/view_keys.h"

#include "eventstore/key_format.h"

namespace jobtrail::view_keys {

// Same big-endian integers as the log's keys.
std::string EncodeU64(uint64_t v) {
  std::string out;
  eventstore::key_format::PutU64(out, v);
  return out;
}
uint64_t DecodeU64(std::string_view in) { return eventstore::key_format::GetU64(in); }
uint64_t SortableTime(int64_t ms) { return uint64_t(ms) ^ (uint64_t{1} << 63); }
int64_t TimeFromSortable(uint64_t v) { return int64_t(v ^ (uint64_t{1} << 63)); }

std::string JobKey(std::string_view job_id) {
  std::string k = "j";
  k.append(job_id);
  return k;
}
std::string LogPrefix(std::string_view job_id) {
  std::string k = "l";
  k.append(job_id);
  k.push_back('\0');
  return k;
}
std::string LogKey(std::string_view job_id, uint64_t seq) { return LogPrefix(job_id) + EncodeU64(seq); }
std::string IndexPrefix(std::string_view dim, std::string_view value, char sort) {
  std::string k = "x";
  k.append(dim);
  k.push_back('\0');
  k.append(value);
  k.push_back('\0');
  k.push_back(sort);
  return k;
}
std::string IndexKey(std::string_view dim, std::string_view value, char sort, int64_t ts,
                     uint64_t pos, std::string_view job_id) {
  std::string k;
  k.reserve(1 + dim.size() + 1 + value.size() + 2 + 16 + job_id.size());
  k.push_back('x');
  k.append(dim);
  k.push_back('\0');
  k.append(value);
  k.push_back('\0');
  k.push_back(sort);
  eventstore::key_format::PutU64(k, SortableTime(ts));
  eventstore::key_format::PutU64(k, pos);
  k.append(job_id);
  return k;
}
std::string CountKey(std::string_view dim, std::string_view value) {
  std::string k = "n";
  k.append(dim);
  k.push_back('\0');
  k.append(value);
  return k;
}

std::string StatusCountKey(std::string_view dim, std::string_view value, std::string_view status) {
  std::string k = CountKey(dim, value);
  k.push_back('\0');
  k.append(status);
  return k;
}

std::string ClaimPrefix(std::string_view queue) {
  std::string k = "q";
  k.append(queue);
  k.push_back('\0');
  return k;
}
std::string ClaimKey(std::string_view queue, int32_t priority, int64_t ready_at,
                     std::string_view job_id) {
  std::string k = ClaimPrefix(queue);
  k += EncodeU64(uint64_t((int64_t{1} << 31) - int64_t(priority)));
  k += EncodeU64(SortableTime(ready_at));
  k.append(job_id);
  return k;
}
std::string UniqueKey(std::string_view owner, std::string_view unique_key) {
  std::string k = "k";
  k.append(owner);
  k.push_back('\0');
  k.append(unique_key);
  return k;
}

std::string WebhookAttemptPrefix(std::string_view webhook_id) {
  std::string k = "w";
  k.append(webhook_id);
  k.push_back('\0');
  return k;
}
std::string WebhookAttemptKey(std::string_view webhook_id, uint64_t position) {
  return WebhookAttemptPrefix(webhook_id) + EncodeU64(position);
}

}  // namespace jobtrail::view_keys
