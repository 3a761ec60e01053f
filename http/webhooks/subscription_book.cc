#include "http/webhooks/subscription_book.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>

#include "http/security/secret_file.h"

namespace jobtrail::webhooks {
namespace {

constexpr std::string_view kFormat = "jobtrail-webhooks-v1";

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), rapidjson::SizeType(key.size()));
  w.String(value.data(), rapidjson::SizeType(value.size()));
}

void WriteList(Writer& w, std::string_view key, const std::vector<std::string>& values) {
  w.Key(key.data(), rapidjson::SizeType(key.size()));
  w.StartArray();
  for (const std::string& v : values) w.String(v.data(), rapidjson::SizeType(v.size()));
  w.EndArray();
}

bool GetStr(const rapidjson::Value& v, const char* key, std::string& out) {
  if (!v.HasMember(key) || !v[key].IsString()) return false;
  out.assign(v[key].GetString(), v[key].GetStringLength());
  return true;
}

bool GetList(const rapidjson::Value& v, const char* key, std::vector<std::string>& out) {
  if (!v.HasMember(key) || !v[key].IsArray()) return false;
  for (const auto& item : v[key].GetArray()) {
    if (!item.IsString()) return false;
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return true;
}

Result<Subscription> Decode(const rapidjson::Value& v) {
  Subscription s;
  std::vector<std::string> statuses;
  if (!v.IsObject() || !GetStr(v, "id", s.id) || !GetStr(v, "url", s.url) ||
      !GetStr(v, "secret", s.secret) || !GetStr(v, "description", s.description) ||
      !GetStr(v, "owner", s.owner) || !GetList(v, "types", s.types) ||
      !GetList(v, "queues", s.queues) || !GetList(v, "statuses", statuses) ||
      !GetStr(v, "created_by", s.created_by) || !v.HasMember("created_at") ||
      !v["created_at"].IsInt64() || !v.HasMember("after_position") ||
      !v["after_position"].IsUint64()) {
    return DataLoss("a subscription is malformed");
  }
  for (const std::string& name : statuses) {
    auto status = ParseStatus(name);
    if (!status) return DataLoss(fmt::format("unknown status '{}'", name));
    s.statuses.push_back(*status);
  }
  s.created_at = v["created_at"].GetInt64();
  s.after_position = v["after_position"].GetUint64();
  return s;
}

}  // namespace

Error WebhookNotFound(std::string_view id) {
  return NotFound("WEBHOOK_NOT_FOUND", fmt::format("webhook '{}' not found", id));
}

Result<std::unique_ptr<SubscriptionBook>> SubscriptionBook::Open(const std::string& path) {
  std::unique_ptr<SubscriptionBook> book(new SubscriptionBook(path));
  auto text = http::ReadWholeFile(path);
  if (!text) {
    if (text.error().code == Code::kNotFound) return book;  // none yet
    return text.error();
  }
  rapidjson::Document d;
  d.Parse(text.value().data(), text.value().size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("format") || !d["format"].IsString() ||
      std::string_view(d["format"].GetString()) != kFormat || !d.HasMember("subscriptions") ||
      !d["subscriptions"].IsArray()) {
    return DataLoss(fmt::format("{} is not a jobtrail webhooks file", path));
  }
  for (const auto& item : d["subscriptions"].GetArray()) {
    auto s = Decode(item);
    if (!s) return DataLoss(fmt::format("{}: {}", path, s.error().message));
    book->subscriptions_.push_back(std::move(s).value());
  }
  return book;
}

Result<void> SubscriptionBook::SaveLocked() const {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "format", kFormat);
  w.Key("subscriptions");
  w.StartArray();
  for (const Subscription& s : subscriptions_) {
    w.StartObject();
    Str(w, "id", s.id);
    Str(w, "url", s.url);
    Str(w, "secret", s.secret);
    Str(w, "description", s.description);
    Str(w, "owner", s.owner);
    WriteList(w, "types", s.types);
    WriteList(w, "queues", s.queues);
    std::vector<std::string> statuses;
    for (JobStatus status : s.statuses) statuses.emplace_back(StatusName(status));
    WriteList(w, "statuses", statuses);
    Str(w, "created_by", s.created_by);
    w.Key("created_at");
    w.Int64(s.created_at);
    w.Key("after_position");
    w.Uint64(s.after_position);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return http::WriteFileAtomically(path_, std::string(buf.GetString(), buf.GetSize()) + "\n",
                                   0600);
}

Result<void> SubscriptionBook::Add(const Subscription& subscription) {
  std::lock_guard lock(mu_);
  const size_t mine = size_t(std::count_if(
      subscriptions_.begin(), subscriptions_.end(),
      [&](const Subscription& s) { return s.created_by == subscription.created_by; }));
  if (mine >= kMaxSubscriptionsPerCreator || subscriptions_.size() >= kMaxSubscriptions) {
    return MakeError(Code::kFailedPrecondition, "TOO_MANY_WEBHOOKS",
                     fmt::format("at most {} webhooks per creator and {} in all; delete one first",
                                 kMaxSubscriptionsPerCreator, kMaxSubscriptions));
  }
  subscriptions_.push_back(subscription);
  if (auto saved = SaveLocked(); !saved) {
    subscriptions_.pop_back();
    return saved.error();
  }
  ++generation_;
  return Ok();
}

Result<void> SubscriptionBook::Remove(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                         [&](const Subscription& s) { return s.id == id; });
  if (it == subscriptions_.end()) return WebhookNotFound(id);
  Subscription removed = *it;
  const size_t index = size_t(it - subscriptions_.begin());
  subscriptions_.erase(it);
  if (auto saved = SaveLocked(); !saved) {
    subscriptions_.insert(subscriptions_.begin() + ptrdiff_t(index), std::move(removed));
    return saved.error();
  }
  ++generation_;
  return Ok();
}

std::optional<Subscription> SubscriptionBook::Get(std::string_view id) const {
  std::lock_guard lock(mu_);
  for (const Subscription& s : subscriptions_) {
    if (s.id == id) return s;
  }
  return std::nullopt;
}

std::vector<Subscription> SubscriptionBook::List() const {
  std::lock_guard lock(mu_);
  return subscriptions_;
}

uint64_t SubscriptionBook::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

}  // namespace jobtrail::webhooks
