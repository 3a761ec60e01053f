#include "eventstore/append_rules.h"

#include <fmt/format.h>

#include <unordered_set>

namespace jobtrail::eventstore {
namespace {

StoreError Invalid(std::string message) {
  return StoreError{StoreCode::kInvalidArgument, std::move(message), 0};
}

}  // namespace

StoreResult<void> ValidateAppend(std::string_view stream,
                                 const std::vector<EventToAppend>& events) {
  if (events.empty()) return Invalid("an append needs at least one event");
  if (stream.empty() || stream.size() > kMaxStreamLength) {
    return Invalid(fmt::format("stream name must be 1 to {} bytes", kMaxStreamLength));
  }
  for (const auto& e : events) {
    if (e.event_id.empty() || e.event_id.size() > kMaxEventIdLength) {
      return Invalid(fmt::format("event id must be 1 to {} bytes", kMaxEventIdLength));
    }
  }
  auto twice = [](const std::string& id) {
    return Invalid(fmt::format("event id '{}' appears twice in one append", id));
  };
  if (events.size() <= 16) {  // the usual case: no allocation
    for (size_t i = 0; i < events.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (events[i].event_id == events[j].event_id) return twice(events[i].event_id);
      }
    }
  } else {
    std::unordered_set<std::string_view> seen;
    for (const auto& e : events) {
      if (!seen.insert(e.event_id).second) return twice(e.event_id);
    }
  }
  return boost::outcome_v2::success();
}

}  // namespace jobtrail::eventstore
