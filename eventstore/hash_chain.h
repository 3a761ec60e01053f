#pragma once
// The tamper-evidence chain of the global log: every record's hash covers
// the previous record's hash and every field of its own, so rewriting,
// reordering or dropping any past record changes every hash after it.
//
//   hash(n) = SHA-256(hash(n-1) | u64 position | u32 len | stream
//                     | u64 version | u32 len | event id | data)
//   hash(0) = 32 zero bytes
#include <cstdint>
#include <string>
#include <string_view>

#include "eventstore/event_log.h"

namespace jobtrail::eventstore {

std::string GenesisHash();
// The hash `event` must carry when it follows a record hashed `prev_hash`.
std::string ChainHash(const std::string& prev_hash, const StoredEvent& event);
// The same over views; writes the 32 bytes to `out` (which may alias
// `prev_hash`, so a running hash can be advanced in place).
void ChainHashInto(std::string_view prev_hash, uint64_t position, std::string_view stream,
                   uint64_t version, std::string_view event_id, std::string_view data,
                   char* out);

}  // namespace jobtrail::eventstore
