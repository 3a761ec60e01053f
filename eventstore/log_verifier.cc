#include "eventstore/log_verifier.h"

#include <fmt/format.h>

#include <unordered_map>

#include "eventstore/hash_chain.h"

namespace jobtrail::eventstore {

StoreResult<LogReport> VerifyLog(
    EventLog& log,
    const std::function<std::optional<std::string>(const StoredEvent&)>& check_event,
    const std::function<void(uint64_t)>& progress) {
  constexpr size_t kChunk = 4096;
  constexpr size_t kMaxProblems = 100;
  LogReport report;
  auto problem = [&](std::string text) {
    if (report.problems.size() < kMaxProblems) report.problems.push_back(std::move(text));
  };
  std::unordered_map<std::string, uint64_t> stream_versions;
  std::string prev_hash = GenesisHash();
  uint64_t expected_position = 1;
  const uint64_t last = log.LastPosition();
  while (expected_position <= last) {
    BOOST_OUTCOME_TRY(chunk, log.ReadAll(expected_position, kChunk));
    if (chunk.empty()) {
      problem(fmt::format("log ends at position {} but its head is {}", expected_position - 1, last));
      break;
    }
    for (const StoredEvent& e : chunk) {
      if (e.position != expected_position) {
        problem(fmt::format("position {} follows {}: events are missing", e.position,
                            expected_position - 1));
      }
      expected_position = e.position + 1;
      if (ChainHash(prev_hash, e) != e.hash) {
        problem(fmt::format("position {}: hash chain broken (record rewritten or a record "
                            "before it removed)", e.position));
      }
      prev_hash = e.hash;
      uint64_t& version = stream_versions[e.stream];
      if (e.version != version + 1) {
        problem(fmt::format("position {}: stream '{}' goes from version {} to {}", e.position,
                            e.stream, version, e.version));
      }
      version = e.version;
      if (check_event) {
        if (auto p = check_event(e)) problem(fmt::format("position {}: {}", e.position, *p));
      }
      ++report.events;
    }
    if (progress) progress(expected_position - 1);
  }
  report.streams = stream_versions.size();
  return report;
}

}  // namespace jobtrail::eventstore
