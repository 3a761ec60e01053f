#pragma once
// The JSON shapes of jobtrail's own API (/v1): the status document, events,
// log lines. The status read model stores exactly RenderJobJson's bytes, so
// a poll is a key lookup and a rebuild reproduces them byte for byte.
//
// Times render as RFC 3339 UTC with milliseconds ("2024-01-15T10:30:45.123Z").
#include <string>

#include "domain/job_event.h"
#include "domain/job_view.h"

namespace jobtrail {

std::string FormatTime(Millis ms);               // RFC 3339, UTC, ms
std::optional<Millis> ParseTime(std::string_view text);  // RFC 3339 or ms

std::string RenderJobJson(const JobView& job);      // status document
std::string RenderEventJson(const RecordedEvent& e);  // one event, with body
std::string RenderLogLineJson(const LogLine& line);

}  // namespace jobtrail
