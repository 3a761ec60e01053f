#pragma once
// The search index's rows in the read-model database (beside view_keys.h):
//
//   "p" term 0x00 created(u64 BE, sortable) created_pos(u64 BE) -> ""
//        postings: every job one of whose tokens has `term` as its indexed
//        prefix (search_terms.h: TermsOf), in creation order. The 16 order
//        bytes are those of the list indexes' 'c' rows ("x" dim 0x00 value
//        0x00 'c' created created_pos job), so a search intersects postings
//        and list indexes by seeking one to the other; the job is named by
//        its enqueue position (8 bytes), not its id (36).
//   "v" created_pos(u64 BE) -> u8 length, job id, then the job's tokens,
//        space-separated, in the order first seen: which job a posting is,
//        what its postings are, and what a query word longer than its
//        indexed prefix is checked against.
#include <cstdint>
#include <string>
#include <string_view>

#include "projections/view_keys.h"

namespace jobtrail::search_keys {

inline constexpr std::string_view kPostingPrefix = "p";
inline constexpr std::string_view kTokensPrefix = "v";
inline constexpr size_t kOrderBytes = view_keys::kIndexOrderBytes;

inline std::string PostingPrefix(std::string_view term) {
  std::string k(kPostingPrefix);
  k.append(term);
  k.push_back('\0');
  return k;
}
// The order bytes of a job: its postings' suffix.
inline std::string OrderBytes(int64_t created_at, uint64_t created_pos) {
  return view_keys::EncodeU64(view_keys::SortableTime(created_at)) +
         view_keys::EncodeU64(created_pos);
}
inline std::string TokensKey(uint64_t created_pos) {
  return std::string(kTokensPrefix) + view_keys::EncodeU64(created_pos);
}
// The tokens row's value, and its parts.
inline std::string TokensValue(std::string_view job_id, std::string_view joined_tokens) {
  std::string v;
  v.reserve(1 + job_id.size() + joined_tokens.size());
  v.push_back(char(uint8_t(job_id.size())));
  v.append(job_id);
  v.append(joined_tokens);
  return v;
}
// False when `value` is malformed.
inline bool SplitTokensValue(std::string_view value, std::string_view& job_id,
                             std::string_view& joined_tokens) {
  if (value.empty() || value.size() < 1 + size_t(uint8_t(value[0]))) return false;
  job_id = value.substr(1, uint8_t(value[0]));
  joined_tokens = value.substr(1 + job_id.size());
  return true;
}

}  // namespace jobtrail::search_keys
