#pragma once
// The search index's rows in the read-model database (beside view_keys.h):
//
//   "w" term 0x00 created(u64 BE, sortable) created_pos(u64 BE) job -> ""
//        postings: every job one of whose tokens starts with `term`, in
//        creation order, with the same order bytes as the list indexes'
//        'c' rows ("x" dim 0x00 value 0x00 'c' ...), so a search intersects
//        postings and list indexes by seeking one to the other.
//   "v" job -> created(u64 BE, sortable) created_pos(u64 BE) then the job's
//        tokens, space-separated, in the order first seen: what its
//        postings are, and what a long query word is checked against.
#include <cstdint>
#include <string>
#include <string_view>

#include "projections/view_keys.h"

namespace jobtrail::search_keys {

inline constexpr std::string_view kPostingPrefix = "w";
inline constexpr std::string_view kTokensPrefix = "v";

inline std::string PostingPrefix(std::string_view term) {
  std::string k(kPostingPrefix);
  k.append(term);
  k.push_back('\0');
  return k;
}
inline std::string PostingKey(std::string_view term, int64_t created_at, uint64_t created_pos,
                              std::string_view job_id) {
  std::string k = PostingPrefix(term);
  k += view_keys::EncodeU64(view_keys::SortableTime(created_at));
  k += view_keys::EncodeU64(created_pos);
  k.append(job_id);
  return k;
}
inline std::string TokensKey(std::string_view job_id) {
  std::string k(kTokensPrefix);
  k.append(job_id);
  return k;
}

}  // namespace jobtrail::search_keys
