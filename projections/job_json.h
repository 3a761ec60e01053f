#pragma once
// The JSON shapes of jobtrail's own API (/v1): the status document, events,
// log lines. The status read model stores exactly RenderJobJson's bytes, so
// a poll is a key lookup and a rebuild reproduces them byte for byte.
//
// Times render as RFC 3339 UTC with milliseconds ("2024-01-15T10:30:45.123Z").
#include <functional>
#include <string>
#include <string_view>

#include "domain/job_event.h"
#include "domain/job_view.h"

namespace jobtrail {

// The times RFC 3339 can write, 0000-01-01T00:00:00.000Z to
// 9999-12-31T23:59:59.999Z. ParseTime refuses times outside (so inputs get
// 400 INVALID_INPUT); FormatTime clamps to them, so it is total.
inline constexpr Millis kEarliestTime = -62167219200000;
inline constexpr Millis kLatestTime = 253402300799999;

std::string FormatTime(Millis ms);               // RFC 3339, UTC, ms
std::optional<Millis> ParseTime(std::string_view text);  // RFC 3339 or ms

std::string RenderJobJson(const JobView& job);      // status document
// Turns an artifact's inline bytes into text (base64) for an export.
using InlineBytesEncoder = std::function<std::string(std::string_view bytes)>;
// One event, with its body. Artifacts show the size of their inline bytes;
// with `encode_bytes` (exports) also the bytes, as "content_base64", which
// the event parser reads back.
std::string RenderEventJson(const RecordedEvent& e, const InlineBytesEncoder& encode_bytes = {});
std::string RenderLogLineJson(const LogLine& line);
// One webhook delivery attempt as GET /v1/webhooks/{id}/deliveries lists it:
// the attempt's fields, its job and time ("attempted_at", the event's).
std::string RenderWebhookAttemptJson(const RecordedEvent& e, const WebhookAttempted& attempt);

}  // namespace jobtrail
