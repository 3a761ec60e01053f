#include "projections/view_hints.h"

#include <cstring>
#include <string_view>

#include "projections/view_keys.h"

namespace jobtrail::view_keys {
namespace {

// The length of the hint prefix of `key`, or 0 when it has none: the
// family byte and its first `fields` NUL-terminated fields, plus `extra`
// bytes after them (the sort byte of a list index).
size_t PrefixAfterFields(std::string_view key, int fields, size_t extra) {
  size_t at = 1;
  for (int i = 0; i < fields; ++i) {
    const size_t nul = key.find('\0', at);
    if (nul == std::string_view::npos) return 0;
    at = nul + 1;
  }
  return at + extra <= key.size() ? at + extra : 0;
}

// The external-reference index's dim with its terminator.
constexpr std::string_view kExternalRefDim("ext\0", 4);
static_assert(kExternalRefDim.substr(0, 3) == kDimExternalRef);

// RocksDB keeps a hint (~250 bytes) per prefix in each memtable, so only
// families with few prefixes take part: not a job's log lines, the search
// postings (a term per job id) or the external-reference index (a value
// per job, mostly).
size_t HintPrefixLength(std::string_view key) {
  if (key.empty()) return 0;
  switch (key[0]) {
    case 'x':  // "x" dim 0 value 0 sort
      if (key.substr(1).starts_with(kExternalRefDim)) return 0;
      return PrefixAfterFields(key, 2, 1);
    case 'q':                                       // "q" queue 0
    case 'm': return PrefixAfterFields(key, 1, 0);  // "m" type 0
    case 'r': return key.size() > 1 ? 1 : 0;        // "r" deadline job
    default: return 0;
  }
}

class InsertHintPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "jobtrail.views.InsertHintPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), HintPrefixLength(key.ToStringView()));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return HintPrefixLength(key.ToStringView()) > 0;
  }
};

}  // namespace

std::shared_ptr<const rocksdb::SliceTransform> NewInsertHintPrefix() {
  return std::make_shared<InsertHintPrefix>();
}

}  // namespace jobtrail::view_keys
