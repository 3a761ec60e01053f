#pragma once
// What every EventLog backend checks in an append before it looks at the
// log: the shape of the request. One definition, so the backends agree.
#include <string_view>
#include <vector>

#include "eventstore/event_log.h"

namespace jobtrail::eventstore {

inline constexpr size_t kMaxStreamLength = 256;
inline constexpr size_t kMaxEventIdLength = 256;

// kInvalidArgument for an empty append, a stream name or an event id of
// 0 or more than 256 bytes, or an event id twice in the request.
StoreResult<void> ValidateAppend(std::string_view stream,
                                 const std::vector<EventToAppend>& events);

}  // namespace jobtrail::eventstore
