#pragma once
// How text becomes searchable words, the same for what is indexed (a job's
// id, external ref, type, payload values, error types and messages, log
// messages) and for what is searched (GET /v1/jobs?q=...), so that a query
// word matches a job when it is a prefix of one of the job's tokens.
//
// A token is a run of ASCII letters and digits (or bytes >= 0x80, so UTF-8
// letters stay inside words), lower-cased (ASCII only; other letters match
// byte for byte). A run of hex digits and dashes that starts like a UUID
// ("d7af71f1-…") is one token without its dashes, so an id or a pasted
// prefix of one is one word. Tokens shorter than kMinWordLength are not
// indexed, longer ones than kMaxTokenLength are cut there.
//
// The index stores few terms per token (TermsOf): its first
// kShortPrefix bytes and its first kLongPrefix bytes, or the whole token
// when it is shorter than kShortPrefix. A query word is looked up by the
// longest of them it covers and, when it is longer, checked against the
// job's tokens; a two-byte word reads every short term that starts with it
// (ParseQuery). Pure code, thread-compatible.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace jobtrail::search {

inline constexpr size_t kMinWordLength = 2;
inline constexpr size_t kShortPrefix = 3;
inline constexpr size_t kLongPrefix = 6;
inline constexpr size_t kMaxTokenLength = 64;
// A job keeps at most this many distinct tokens (the first ones, in event
// order): a job logging 100,000 lines costs the index a bounded row.
inline constexpr size_t kMaxTokensPerJob = 512;
inline constexpr size_t kMaxQueryWords = 8;
inline constexpr size_t kMaxQueryBytes = 512;

// Distinct tokens in the order first seen, at most `limit` of them.
class TokenSet {
 public:
  explicit TokenSet(size_t limit = kMaxTokensPerJob) : limit_(limit) {}
  // False when the token was new but the set is full.
  bool Add(std::string token);
  bool Contains(std::string_view token) const;
  bool full() const { return order_.size() >= limit_; }
  const std::vector<std::string>& tokens() const { return order_; }
  std::vector<std::string> Take() && { return std::move(order_); }

 private:
  // Most jobs have a few dozen tokens: a scan finds them faster than a
  // hash set costs to build; past kScanLimit the set is hashed.
  static constexpr size_t kScanLimit = 32;
  size_t limit_;
  std::vector<std::string> order_;
  std::unordered_set<std::string> seen_;  // order_'s tokens, once past kScanLimit
};

// Adds the tokens of `text` to `out`, in order.
void Tokenize(std::string_view text, TokenSet& out);
// Adds the tokens of every string and number in a JSON document (keys are
// not words); a document that does not parse adds nothing.
void TokenizeJsonValues(std::string_view json, TokenSet& out);

// The index terms of one token (views into it): a two-byte token is its
// own term; a longer one has its first kShortPrefix bytes and, from
// kLongPrefix bytes on, its first kLongPrefix bytes.
struct TokenTerms {
  std::string_view term[2];
  size_t count = 0;
};
TokenTerms TermsOf(std::string_view token);

// A query word and how it is looked up: the postings of `term` list every
// candidate (with `every_short_term`, those of every term that is `term`
// or kShortPrefix bytes starting with it: a two-byte word); candidates
// must be checked against their tokens when `needs_check` (the word is
// longer than its term).
struct QueryWord {
  std::string word;
  std::string term;
  bool every_short_term = false;
  bool needs_check = false;
};
// The words of a query, de-duplicated, in order. Empty when it has none of
// at least kMinWordLength bytes.
std::vector<QueryWord> ParseQuery(std::string_view text);

// Does some token start with `word`? (`tokens` as stored: space-separated.)
bool AnyTokenStartsWith(std::string_view tokens, std::string_view word);

}  // namespace jobtrail::search
