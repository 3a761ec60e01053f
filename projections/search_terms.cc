#include "projections/search_terms.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>

namespace jobtrail::search {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
bool IsHex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char Lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

void AddToken(std::string_view raw, TokenSet& out) {
  if (raw.size() < kMinWordLength) return;
  std::string token(raw.substr(0, kMaxTokenLength));
  std::transform(token.begin(), token.end(), token.begin(), Lower);
  (void)out.Add(std::move(token));  // a full set just stops growing
}

// "d7af71f1-516f-…": 8 hex digits, a dash, then only hex digits and dashes.
// Returns its length in `text` from `i`, or 0.
size_t UuidLikeRun(std::string_view text, size_t i) {
  size_t j = i;
  while (j < text.size() && j - i < 8 && IsHex(text[j])) ++j;
  if (j - i != 8 || j >= text.size() || text[j] != '-') return 0;
  while (j < text.size() && (IsHex(text[j]) || text[j] == '-')) ++j;
  // A run that goes on into other letters is not an id ("deadbeef-cafe-x").
  if (j < text.size() && IsWordByte(text[j])) return 0;
  return j - i;
}

void AddNumber(const rapidjson::Value& v, TokenSet& out) {
  char buf[32];
  std::to_chars_result r{};
  if (v.IsInt64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.GetInt64());
  } else if (v.IsUint64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.GetUint64());
  } else {
    return;  // fractions are not words anyone searches for
  }
  Tokenize(std::string_view(buf, size_t(r.ptr - buf)), out);
}

void Walk(const rapidjson::Value& v, TokenSet& out, int depth) {
  if (out.full() || depth > 64) return;
  if (v.IsString()) {
    Tokenize(std::string_view(v.GetString(), v.GetStringLength()), out);
  } else if (v.IsNumber()) {
    AddNumber(v, out);
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray()) Walk(item, out, depth + 1);
  } else if (v.IsObject()) {
    for (const auto& member : v.GetObject()) Walk(member.value, out, depth + 1);
  }
}

}  // namespace

bool TokenSet::Contains(std::string_view token) const {
  if (order_.size() <= kScanLimit) {
    return std::find(order_.begin(), order_.end(), token) != order_.end();
  }
  return seen_.count(std::string(token)) > 0;
}

bool TokenSet::Add(std::string token) {
  if (Contains(token)) return true;
  if (full()) return false;
  if (order_.size() == kScanLimit) seen_.insert(order_.begin(), order_.end());
  if (order_.size() >= kScanLimit) seen_.insert(token);
  order_.push_back(std::move(token));
  return true;
}

void Tokenize(std::string_view text, TokenSet& out) {
  size_t i = 0;
  while (i < text.size() && !out.full()) {
    if (!IsWordByte(text[i])) {
      ++i;
      continue;
    }
    if (size_t n = UuidLikeRun(text, i); n > 0) {
      std::string id;
      for (char c : text.substr(i, n)) {
        if (c != '-') id.push_back(c);
      }
      AddToken(id, out);
      i += n;
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsWordByte(text[j])) ++j;
    AddToken(text.substr(i, j - i), out);
    i = j;
  }
}

void TokenizeJsonValues(std::string_view json, TokenSet& out) {
  if (json.empty()) return;
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) return;
  Walk(doc, out, 0);
}

TokenTerms TermsOf(std::string_view token) {
  TokenTerms out;
  if (token.size() < kShortPrefix) {
    out.term[out.count++] = token;
    return out;
  }
  out.term[out.count++] = token.substr(0, kShortPrefix);
  if (token.size() >= kLongPrefix) out.term[out.count++] = token.substr(0, kLongPrefix);
  return out;
}

std::vector<QueryWord> ParseQuery(std::string_view text) {
  TokenSet tokens(kMaxQueryWords + 1);
  Tokenize(text, tokens);
  std::vector<QueryWord> words;
  for (const std::string& t : tokens.tokens()) {
    QueryWord w;
    w.word = t;
    if (t.size() < kShortPrefix) {
      w.term = t;
      w.every_short_term = true;
    } else {
      w.term = t.substr(0, t.size() >= kLongPrefix ? kLongPrefix : kShortPrefix);
      w.needs_check = t.size() > w.term.size();
    }
    words.push_back(std::move(w));
  }
  return words;
}

bool AnyTokenStartsWith(std::string_view tokens, std::string_view word) {
  size_t i = 0;
  while (i <= tokens.size()) {
    size_t end = tokens.find(' ', i);
    if (end == std::string_view::npos) end = tokens.size();
    if (tokens.substr(i, end - i).starts_with(word)) return true;
    i = end + 1;
  }
  return false;
}

}  // namespace jobtrail::search
