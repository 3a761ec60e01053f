#pragma once
// What a name may be: the strings that become parts of index keys and
// lookups — a job's type, queue, owner, external reference and unique key,
// a schedule's job type and queue, a claimed queue. Any UTF-8 text of up to
// kMaxNameLength bytes without control characters (bytes 0x00-0x1F and
// 0x7F): a NUL would end a key part early and make one name's keys collide
// with another's (lists answering 500, a queue's claims starving), and the
// other control characters have no business in a name either.
//
// Every write path checks its names here (the state machine for enqueues,
// the schedule book, claims), so the rule is in one place.
#include <cstddef>
#include <string_view>

#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail {

inline constexpr size_t kMaxNameLength = 1024;

// True when `name` has no control character and is not too long (empty is
// fine here: whether a field is required is the caller's rule).
bool IsValidName(std::string_view name);

// kInvalidArgument/INVALID_INPUT naming `field` ("type", "queue", ...) when
// !IsValidName(value). The message never repeats the value (it may hold the
// very bytes that break logs and terminals).
Result<void> CheckName(std::string_view field, std::string_view value);

// The names of an enqueue: type, queue, owner, external_ref, unique_key.
Result<void> CheckEnqueuedNames(const Enqueued& spec);

}  // namespace jobtrail
