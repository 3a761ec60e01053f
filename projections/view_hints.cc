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

// RocksDB keeps a hint (~250 bytes) per prefix in each memtable, so a
// prefix must not be per job. Ordered families get a hint per ordered
// range (an index, a queue, a type's minutes); the others one per family
// (the first byte): a batch writes its rows in key order (projector.cc),
// so its rows of one family go in one after another.
size_t HintPrefixLength(std::string_view key) {
  if (key.size() < 2) return 0;
  switch (key[0]) {
    case 'x':  // "x" dim 0 value 0 sort
      // External references are (mostly) one per job: one hint for them all.
      if (key.substr(1).starts_with(kExternalRefDim)) return 1 + kExternalRefDim.size();
      return PrefixAfterFields(key, 2, 1);
    case 'q': return PrefixAfterFields(key, 1, 0);  // "q" queue 0
    // Never 'm' (the per-minute history): its old minutes go by DeleteRange,
    // and RocksDB 7.8 shares the hints of a prefix between the memtable's
    // point and range-deletion tables, which corrupts the memtable (an
    // assertion in debug builds, keys missing from scans otherwise;
    // facebook/rocksdb#5118, fixed by #12558 in 9.x). No family written by
    // DeleteRange may have a prefix here.
    case 'j':                                       // "j" job
    case 'p':                                       // "p" term 0 order
    case 'v':                                       // "v" created position
    case 'n':                                       // "n" dim 0 value
    case 'l':                                       // "l" job 0 seq
    case 'k':                                       // "k" owner 0 unique key
    case 'w': return 1;                             // "w" webhook 0 pos
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
