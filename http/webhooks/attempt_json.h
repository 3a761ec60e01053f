#pragma once
// Reading a webhook_attempted event's data back from its JSON (what
// RenderEventJson writes and `jobtrail export` prints), for `jobtrail
// import`: only the store writes these events, the API never takes them.
#include <rapidjson/document.h>

#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail::webhooks {

// `data` with nulls already dropped (the import does that). Errors:
// kInvalidArgument naming the field.
Result<WebhookAttempted> ParseAttemptData(const rapidjson::Value& data);

}  // namespace jobtrail::webhooks
