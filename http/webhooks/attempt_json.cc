#include "http/webhooks/attempt_json.h"

#include <fmt/format.h>

#include "projections/job_json.h"

namespace jobtrail::webhooks {
namespace {

Error Bad(std::string_view field) {
  return InvalidArgument(fmt::format("data.{} is missing or has the wrong type", field));
}

}  // namespace

Result<WebhookAttempted> ParseAttemptData(const rapidjson::Value& d) {
  if (!d.IsObject()) return InvalidArgument("data must be an object");
  WebhookAttempted a;
  auto str = [&](const char* key, std::string& out, bool required) -> Result<void> {
    if (!d.HasMember(key)) return required ? Result<void>(Bad(key)) : Ok();
    if (!d[key].IsString()) return Bad(key);
    out.assign(d[key].GetString(), d[key].GetStringLength());
    return Ok();
  };
  BOOST_OUTCOME_TRYV(str("delivery_id", a.delivery_id, true));
  BOOST_OUTCOME_TRYV(str("webhook_id", a.webhook_id, false));
  BOOST_OUTCOME_TRYV(str("event_type", a.event_type, true));
  BOOST_OUTCOME_TRYV(str("error", a.error, false));
  if (!d.HasMember("event_version") || !d["event_version"].IsUint64()) return Bad("event_version");
  a.event_version = d["event_version"].GetUint64();
  if (!d.HasMember("attempt") || !d["attempt"].IsInt()) return Bad("attempt");
  a.attempt = d["attempt"].GetInt();
  if (d.HasMember("status_code")) {
    if (!d["status_code"].IsInt()) return Bad("status_code");
    a.status_code = d["status_code"].GetInt();
  }
  if (!d.HasMember("duration_ms") || !d["duration_ms"].IsInt64()) return Bad("duration_ms");
  a.duration_ms = d["duration_ms"].GetInt64();
  std::string outcome;
  BOOST_OUTCOME_TRYV(str("outcome", outcome, true));
  auto parsed = ParseWebhookOutcome(outcome);
  if (!parsed) return Bad("outcome");
  a.outcome = *parsed;
  if (d.HasMember("next_attempt_at")) {
    if (!d["next_attempt_at"].IsString()) return Bad("next_attempt_at");
    a.next_attempt_at = ParseTime(d["next_attempt_at"].GetString());
    if (!a.next_attempt_at) return Bad("next_attempt_at");
  }
  return a;
}

}  // namespace jobtrail::webhooks
