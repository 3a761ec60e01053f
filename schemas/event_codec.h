#pragma once
// Cap'n Proto encoding of events (schemas/events.capnp).
//
// Decoding copies everything into domain structs: no capnp Reader outlives
// its message, and no kj::Exception escapes (a malformed message is a
// kDataLoss/CORRUPTION error). Thread-safe: no shared state.
#include <string>
#include <string_view>

#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail {

// Encodes the envelope and body as one flat (unpacked) Cap'n Proto message.
std::string EncodeEvent(const RecordedEvent& event);

// Decodes bytes produced by EncodeEvent, of this or any earlier schema
// version. Errors: kDataLoss/CORRUPTION.
Result<RecordedEvent> DecodeEvent(std::string_view bytes);

}  // namespace jobtrail
