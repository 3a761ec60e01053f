#include "eventstore/log_verifier.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <array>
#include <unordered_map>

#include "eventstore/hash_chain.h"
#include "eventstore/key_format.h"

namespace jobtrail::eventstore {
namespace {

// A multiset of (position, hash) links, as the sum of SHA-256(position |
// hash) modulo 2^256 (an incremental multiset hash): the links the archive
// and the log produce and the ones they consume must be the same multiset,
// whatever order the archive is read in, in constant memory.
class LinkSum {
 public:
  void Add(uint64_t position, std::string_view hash) {
    std::string input;
    key_format::PutU64(input, position);
    input.append(hash);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    unsigned carry = 0;
    for (int i = SHA256_DIGEST_LENGTH - 1; i >= 0; --i) {
      const unsigned sum = unsigned(sum_[size_t(i)]) + digest[i] + carry;
      sum_[size_t(i)] = static_cast<unsigned char>(sum & 0xff);
      carry = sum >> 8;
    }
    ++count_;
  }
  bool operator==(const LinkSum& other) const {
    return sum_ == other.sum_ && count_ == other.count_;
  }

 private:
  std::array<unsigned char, SHA256_DIGEST_LENGTH> sum_{};
  uint64_t count_ = 0;
};

}  // namespace

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
  // Links across archived ranges: produced by the record before a range and
  // by archived records, consumed by archived records and by each range's
  // end (its hash, which the record after it chains from).
  LinkSum produced, consumed;
  uint64_t gap_positions = 0;
  // Positions expected_position..`before`-1 are not in the log: they must
  // be one archived range, whose last hash the chain goes on from.
  auto cross_gap = [&](uint64_t before) -> StoreResult<bool> {
    BOOST_OUTCOME_TRY(gap, log.GapAt(expected_position));
    if (!gap || gap->last + 1 != before) return false;
    produced.Add(expected_position - 1, prev_hash);
    consumed.Add(gap->last, gap->last_hash);
    gap_positions += gap->last - gap->first + 1;
    prev_hash = gap->last_hash;
    expected_position = gap->last + 1;
    return true;
  };
  const uint64_t last = log.LastPosition();
  while (expected_position <= last) {
    BOOST_OUTCOME_TRY(chunk, log.ReadAll(expected_position, kChunk));
    if (chunk.empty()) {
      BOOST_OUTCOME_TRY(crossed, cross_gap(last + 1));
      if (!crossed) {
        problem(fmt::format("log ends at position {} but its head is {}", expected_position - 1,
                            last));
      }
      break;
    }
    for (const StoredEvent& e : chunk) {
      if (e.position != expected_position) {
        BOOST_OUTCOME_TRY(crossed, cross_gap(e.position));
        if (!crossed) {
          problem(fmt::format("position {} follows {}: events are missing", e.position,
                              expected_position - 1));
        }
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

  // The archive: every archived stream whole (versions 1.. in order, its
  // own name), every record hashing to what it says, and every link.
  uint64_t archived = 0;
  auto checked = log.ForEachArchivedStream(
      [&](const std::vector<ArchivedEvent>& records) -> StoreResult<void> {
        if (records.empty()) return boost::outcome_v2::success();
        const std::string& stream = records.front().event.stream;
        if (stream_versions.count(stream) > 0) {
          problem(fmt::format("archive: stream '{}' is both archived and in the log", stream));
        }
        for (size_t i = 0; i < records.size(); ++i) {
          const StoredEvent& e = records[i].event;
          if (e.stream != stream || e.version != i + 1) {
            problem(fmt::format("archive: stream '{}' has '{}' version {} as its event {}",
                                stream, e.stream, e.version, i + 1));
          }
          if (ChainHash(records[i].prev_hash, e) != e.hash) {
            problem(fmt::format("archive: position {} does not hash to its recorded hash "
                                "(an archived record was rewritten)", e.position));
          }
          if (check_event) {
            if (auto p = check_event(e)) {
              problem(fmt::format("archive: position {}: {}", e.position, *p));
            }
          }
          produced.Add(e.position, e.hash);
          consumed.Add(e.position - 1, records[i].prev_hash);
          ++archived;
        }
        ++report.streams;
        return boost::outcome_v2::success();
      });
  if (!checked) {
    if (checked.error().code == StoreCode::kIOError) return checked.error();
    problem("archive: " + checked.error().message);  // missing or damaged
  } else if (archived != gap_positions || !(produced == consumed)) {
    problem(fmt::format(
        "archive: its {} record(s) do not fill the log's {} archived position(s) link for link "
        "(records missing, added or rewritten)",
        archived, gap_positions));
  }
  report.events += archived;
  report.archived_events = archived;
  return report;
}

}  // namespace jobtrail::eventstore
