#pragma once
// The on-disk layout of the RocksDB event log. Described in
// eventstore/FORMAT.md; change both together, and only compatibly.
//
// Column families:
//   default  "format" -> kFormatMarker  (identifies a jobtrail data directory)
//   log      position (u64 BE)                          -> record
//   streams  u32 BE length | stream | version (u64 BE)  -> position (u64 BE)
//   ids      event id                                   -> position (u64 BE)
// record = u32 BE stream length | stream | u64 BE version
//        | u32 BE event-id length | event id | 32-byte chain hash | data
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/event_log.h"

namespace jobtrail::eventstore::key_format {

inline constexpr std::string_view kFormatKey = "format";
inline constexpr std::string_view kFormatMarker = "jobtrail-eventlog-v1";
inline constexpr std::string_view kLogFamily = "log";
inline constexpr std::string_view kStreamsFamily = "streams";
inline constexpr std::string_view kIdsFamily = "ids";
inline constexpr size_t kHashSize = 32;

void PutU64(std::string& out, uint64_t v);
void PutU32(std::string& out, uint32_t v);
uint64_t GetU64(std::string_view in);  // in.size() >= 8
uint32_t GetU32(std::string_view in);  // in.size() >= 4

std::string PositionKey(uint64_t position);
std::string StreamPrefix(std::string_view stream);
std::string StreamKey(std::string_view stream, uint64_t version);

std::string EncodeRecord(const StoredEvent& event);
// Parses a record stored under `position`; nullopt if it is malformed.
std::optional<StoredEvent> DecodeRecord(uint64_t position, std::string_view record);

}  // namespace jobtrail::eventstore::key_format
