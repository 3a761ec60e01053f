// The search read model: GET /v1/jobs?q= below HTTP. Words are prefixes of
// a job's tokens (id, external ref, type, payload values, errors, logs),
// case-insensitive, all of them required, newest first, combined with the
// list's filters and cursor paging.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "projections/search_terms.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

std::vector<std::string> TokensOf(std::string_view text) {
  search::TokenSet set;
  search::Tokenize(text, set);
  return set.tokens();
}

TEST(SearchTermsTest, TokensAreLowerCaseWordsOfTwoOrMoreBytes) {
  EXPECT_EQ(TokensOf("Element not found: #btnSubmit (a)"),
            (std::vector<std::string>{"element", "not", "found", "btnsubmit"}));
  EXPECT_EQ(TokensOf("form-fill FORM_fill"), (std::vector<std::string>{"form", "fill"}));
  EXPECT_EQ(TokensOf("Zoë's café"), (std::vector<std::string>{"zoë", "café"}));
}

TEST(SearchTermsTest, AUuidIsOneTokenWithoutItsDashes) {
  EXPECT_EQ(TokensOf("job d7af71f1-516f-5ed7-9255-ef4eb2265e39 failed"),
            (std::vector<std::string>{"job", "d7af71f1516f5ed79255ef4eb2265e39", "failed"}));
  // A pasted prefix of an id is one word too.
  EXPECT_EQ(TokensOf("D7AF71F1-516F"), (std::vector<std::string>{"d7af71f1516f"}));
  // Eight hex digits and a dash inside other words are not an id.
  EXPECT_EQ(TokensOf("deadbeef-cafe-xyz"), (std::vector<std::string>{"deadbeef", "cafe", "xyz"}));
}

TEST(SearchTermsTest, JsonValuesButNotKeys) {
  search::TokenSet set;
  search::TokenizeJsonValues(R"({"formData":{"firstName":"John","age":42,"tags":["vip"],"ok":true}})",
                             set);
  EXPECT_EQ(set.tokens(), (std::vector<std::string>{"john", "42", "vip"}));
  search::TokenSet bad;
  search::TokenizeJsonValues("{not json", bad);
  EXPECT_TRUE(bad.tokens().empty());
}

TEST(SearchTermsTest, TokensAreCappedAndCut) {
  search::TokenSet set(3);
  search::Tokenize("aa bb aa cc dd ee", set);
  EXPECT_EQ(set.tokens(), (std::vector<std::string>{"aa", "bb", "cc"}));
  EXPECT_EQ(TokensOf(std::string(100, 'x'))[0].size(), search::kMaxTokenLength);
}

std::vector<std::string_view> TermsOf(std::string_view token) {
  const search::TokenTerms t = search::TermsOf(token);
  return std::vector<std::string_view>(t.term, t.term + t.count);
}

TEST(SearchTermsTest, ATokenHasAtMostTwoTerms) {
  EXPECT_EQ(TermsOf("ok"), (std::vector<std::string_view>{"ok"}));
  EXPECT_EQ(TermsOf("form"), (std::vector<std::string_view>{"for"}));
  EXPECT_EQ(TermsOf("formfill"), (std::vector<std::string_view>{"for", "formfi"}));
  EXPECT_EQ(TermsOf("abcdef"), (std::vector<std::string_view>{"abc", "abcdef"}));
  const auto words = search::ParseQuery("Form form  abcdefghijklmnop x fo abc abcdef");
  ASSERT_EQ(words.size(), 5u);
  EXPECT_EQ(words[0].term, "for");  // looked up by its first three bytes, then checked
  EXPECT_TRUE(words[0].needs_check);
  EXPECT_EQ(words[1].term, "abcdef");
  EXPECT_TRUE(words[1].needs_check);
  EXPECT_EQ(words[2].term, "fo");  // every short term under it
  EXPECT_TRUE(words[2].every_short_term);
  EXPECT_FALSE(words[2].needs_check);
  EXPECT_EQ(words[3].term, "abc");
  EXPECT_FALSE(words[3].needs_check);
  EXPECT_EQ(words[4].term, "abcdef");
  EXPECT_FALSE(words[4].needs_check);
  EXPECT_TRUE(search::ParseQuery("a - ! ?").empty());
}

class SearchTest : public StoreTest {
 protected:
  std::string EnqueueWith(const std::string& type, const std::string& owner,
                          const std::string& payload, const std::string& ref = "") {
    clock_.Advance(1000);
    EnqueueRequest r;
    r.spec.type = type;
    r.spec.owner = owner;
    r.spec.external_ref = ref;
    r.spec.payload_json = payload;
    r.actor = "api";
    auto out = store_->Enqueue(std::move(r));
    EXPECT_TRUE(out) << out.error().ToString();
    return out ? out.value().job_id : "";
  }
  std::vector<std::string> Search(ListQuery q) {
    auto page = store_->List(q);
    EXPECT_TRUE(page) << page.error().ToString();
    return page ? page.value().ids : std::vector<std::string>{};
  }
  std::vector<std::string> Search(const std::string& text) {
    return Search(ListQuery{.text = text});
  }
};

TEST_F(SearchTest, FindsWordsInEveryIndexedFieldNewestFirst) {
  const std::string john = EnqueueWith("form-fill", "alice", R"({"firstName":"John","city":"Lyon"})",
                                       "507f1f77bcf86cd799439011");
  const std::string jane = EnqueueWith("form-fill", "bob", R"({"firstName":"Jane","city":"Lyon"})");
  const std::string pdf = EnqueueWith("pdf_chapter", "alice", R"({"title":"Johnny's book"})");
  MustAppend(jane, Started{});
  MustAppend(jane, Screenshot("Element not found: #btnSubmit", 1));
  MustAppend(pdf, Logged{LogLevel::kWarn, "Ghostscript slow on page 12", "", {}});

  EXPECT_EQ(Search("lyon"), (std::vector<std::string>{jane, john}));
  EXPECT_EQ(Search("JOHN"), (std::vector<std::string>{pdf, john}));  // a prefix of johnny
  EXPECT_EQ(Search("john lyon"), (std::vector<std::string>{john}));   // every word
  EXPECT_EQ(Search("btnsub"), (std::vector<std::string>{jane}));      // error message
  EXPECT_EQ(Search("formfill"), (std::vector<std::string>{jane}));    // error type
  EXPECT_EQ(Search("ghostscript"), (std::vector<std::string>{pdf}));  // log line
  EXPECT_EQ(Search("pdf_chapter"), (std::vector<std::string>{pdf}));  // type, as words
  EXPECT_EQ(Search("507f1f77bcf8"), (std::vector<std::string>{john}));  // external ref
  EXPECT_EQ(Search(pdf), (std::vector<std::string>{pdf}));             // the whole id
  EXPECT_EQ(Search(pdf.substr(0, 13)), (std::vector<std::string>{pdf}));  // a pasted prefix
  EXPECT_TRUE(Search("nobody").empty());
  EXPECT_TRUE(Search("johnx").empty());
}

TEST_F(SearchTest, LongWordsAreCheckedBeyondTheIndexedPrefix) {
  const std::string a = EnqueueWith("t", "alice", R"({"k":"internationalization"})");
  const std::string b = EnqueueWith("t", "alice", R"({"k":"internationalisation"})");
  EXPECT_EQ(Search("internationaliz"), (std::vector<std::string>{a}));
  EXPECT_EQ(Search("internationalis"), (std::vector<std::string>{b}));
  EXPECT_EQ(Search("internationali"), (std::vector<std::string>{b, a}));
}

// Candidates of a long word are checked against their tokens rows through
// one iterator that steps from one to the next: dense and sparse
// candidates, both orders, and a job imported with an older time (its
// creation order is not its enqueue order, so the iterator must seek back).
TEST_F(SearchTest, LongWordsAreCheckedInEitherOrderWhateverTheGaps) {
  std::vector<std::string> jobs;  // jobs[i] has the token "ticket{i:03}"
  for (int i = 0; i < 60; ++i) {
    jobs.push_back(EnqueueWith("t", "alice", fmt::format(R"({{"k":"ticket{:03}"}})", i)));
    if (i % 2 == 0) EnqueueWith("t", "alice", R"({"k":"tickets"})");  // a candidate, no match
  }
  EnqueueRequest old;
  old.spec.type = "t";
  old.spec.payload_json = R"({"k":"ticket0x5"})";
  old.actor = "import";
  old.timestamp = clock_.Now() - 1'000'000;  // created before every other job
  auto imported = store_->Enqueue(std::move(old));
  ASSERT_TRUE(imported) << imported.error().ToString();
  const std::string first = imported.value().job_id;

  auto newest_first = [&](int from, int to) {  // jobs[from, to), newest first
    std::vector<std::string> out(jobs.begin() + from, jobs.begin() + to);
    std::reverse(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> tens = newest_first(10, 20);
  EXPECT_EQ(Search("ticket01"), tens);
  std::vector<std::string> all = newest_first(0, 60);
  all.push_back(first);
  EXPECT_EQ(Search(ListQuery{.limit = 1000, .text = "ticket0"}), all);
  std::reverse(all.begin(), all.end());
  EXPECT_EQ(Search(ListQuery{.descending = false, .limit = 1000, .text = "ticket0"}), all);
  EXPECT_EQ(Search("ticket0x"), (std::vector<std::string>{first}));
  EXPECT_EQ(Search(ListQuery{.descending = false, .text = "ticket0x"}),
            (std::vector<std::string>{first}));
  // Sparse: every tenth, and one far from the others.
  EXPECT_EQ(Search("ticket05 ticket059"), (std::vector<std::string>{jobs[59]}));
  std::vector<std::string> sparse;
  for (int i = 59; i >= 0; --i) {
    if (i % 10 == 3) sparse.push_back(jobs[i]);
  }
  for (const std::string& word : {"ticket003", "ticket013", "ticket023", "ticket033",
                                  "ticket043", "ticket053"}) {
    const std::vector<std::string> one = Search(word);
    ASSERT_EQ(one.size(), 1u) << word;
    EXPECT_EQ(one[0], sparse[5 - (word[7] - '0')]) << word;
  }
  // Paging through the candidates by cursor, oldest first.
  std::vector<std::string> seen;
  ListQuery q{.descending = false, .limit = 7, .text = "ticket0"};
  for (;;) {
    auto page = store_->List(q);
    ASSERT_TRUE(page) << page.error().ToString();
    seen.insert(seen.end(), page.value().ids.begin(), page.value().ids.end());
    if (!page.value().has_more) break;
    q.cursor = page.value().next_cursor;
  }
  EXPECT_EQ(seen, all);
}

// The index holds few terms per token (two-byte tokens whole, then the
// first 3 and 6 bytes); words of every length still match prefixes of
// tokens of every length.
TEST_F(SearchTest, WordsOfEveryLengthMatchTokensOfEveryLength) {
  const std::string a = EnqueueWith("t", "alice", R"({"k":"ok"})");
  const std::string b = EnqueueWith("t", "alice", R"({"k":"okapi"})");
  const std::string c = EnqueueWith("t", "bob", R"({"k":"okonomiyaki"})");
  const std::string d = EnqueueWith("t", "alice", R"({"a":"okapi","b":"okonomiyaki"})");
  EXPECT_EQ(Search("ok"), (std::vector<std::string>{d, c, b, a}));  // every short term under it
  EXPECT_EQ(Search("oka"), (std::vector<std::string>{d, b}));
  EXPECT_EQ(Search("okap"), (std::vector<std::string>{d, b}));  // between indexed lengths
  EXPECT_EQ(Search("okapi"), (std::vector<std::string>{d, b}));
  EXPECT_EQ(Search("okonom"), (std::vector<std::string>{d, c}));
  EXPECT_EQ(Search("okonomiyaki"), (std::vector<std::string>{d, c}));
  EXPECT_TRUE(Search("okonomiyakis").empty());
  EXPECT_TRUE(Search("okx").empty());
  EXPECT_TRUE(Search("zz").empty());
  EXPECT_EQ(Search("ok okapi"), (std::vector<std::string>{d, b}));
  EXPECT_EQ(Search(ListQuery{.owner = "alice", .descending = false, .text = "ok"}),
            (std::vector<std::string>{a, b, d}));
  // A two-byte word pages by cursor like any other.
  std::vector<std::string> seen;
  ListQuery q{.limit = 1, .text = "ok"};
  for (;;) {
    auto page = store_->List(q);
    ASSERT_TRUE(page) << page.error().ToString();
    EXPECT_EQ(page.value().total, 4u - seen.size());
    seen.insert(seen.end(), page.value().ids.begin(), page.value().ids.end());
    if (!page.value().has_more) break;
    q.cursor = page.value().next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{d, c, b, a}));
}

TEST_F(SearchTest, CombinesWithTheListFiltersAndPagesByCursor) {
  std::vector<std::string> alice_lyon;
  for (int i = 0; i < 7; ++i) {
    const std::string id = EnqueueWith(i % 2 ? "email" : "sms", i % 3 ? "alice" : "bob",
                                       R"({"city":"Lyon"})");
    if (i % 3 != 0) alice_lyon.insert(alice_lyon.begin(), id);
    if (i == 4) MustAppend(id, Cancelled{"no", "ops"});
  }
  EnqueueWith("email", "alice", R"({"city":"Paris"})");
  EXPECT_EQ(Search(ListQuery{.owner = "alice", .text = "lyon"}), alice_lyon);
  EXPECT_EQ(Search(ListQuery{.type = "email", .owner = "alice", .text = "lyon"}).size(), 2u);
  EXPECT_EQ(Search(ListQuery{.statuses = {JobStatus::kCancelled}, .text = "lyon"}).size(), 1u);
  EXPECT_EQ(Search(ListQuery{.statuses = {JobStatus::kCancelled, JobStatus::kPending},
                             .owner = "alice",
                             .text = "lyon"}),
            alice_lyon);

  // Pages of 2 by cursor, then the same set oldest first.
  std::vector<std::string> seen;
  ListQuery q{.owner = "alice", .limit = 2, .text = "lyon"};
  for (;;) {
    auto page = store_->List(q);
    ASSERT_TRUE(page) << page.error().ToString();
    EXPECT_EQ(page.value().total, alice_lyon.size() - seen.size());
    EXPECT_TRUE(page.value().total_exact);
    seen.insert(seen.end(), page.value().ids.begin(), page.value().ids.end());
    if (!page.value().has_more) break;
    q.cursor = page.value().next_cursor;
  }
  EXPECT_EQ(seen, alice_lyon);
  std::vector<std::string> ascending(alice_lyon.rbegin(), alice_lyon.rend());
  EXPECT_EQ(Search(ListQuery{.owner = "alice", .descending = false, .text = "lyon"}), ascending);
  EXPECT_EQ(Search(ListQuery{.owner = "alice", .skip = 3, .text = "lyon"}),
            std::vector<std::string>(alice_lyon.begin() + 3, alice_lyon.end()));
  // Created-time bounds.
  auto first = store_->Status(alice_lyon.back());
  ASSERT_TRUE(first);
  EXPECT_EQ(Search(ListQuery{.created_before = first.value().created_at + 1, .text = "lyon"}).size(),
            2u);
}

TEST_F(SearchTest, BadQueriesAreRefused) {
  EXPECT_FALSE(store_->List(ListQuery{.text = "- ! x"}));
  EXPECT_FALSE(store_->List(ListQuery{.sort = SortField::kUpdated, .text = "lyon"}));
  EXPECT_FALSE(store_->List(ListQuery{.cursor = "zz", .text = "lyon"}));
  EXPECT_FALSE(store_->List(ListQuery{.text = "a1 b2 c3 d4 e5 f6 g7 h8 i9"}));
}

TEST_F(SearchTest, AnExpiredJobLeavesTheIndex) {
  const std::string old = EnqueueWith("email", "alice", R"({"city":"Lyon"})");
  MustAppend(old, Started{});
  MustAppend(old, Completed{"{}", {}});
  clock_.Advance(3'600'000);
  const std::string fresh = EnqueueWith("email", "alice", R"({"city":"Lyon"})");
  MaintenanceOptions cleanup;
  cleanup.cleanup_older_than_ms = 60'000;
  ASSERT_TRUE(store_->RunMaintenance(cleanup));
  EXPECT_EQ(Search("lyon"), (std::vector<std::string>{fresh}));
  auto verified = store_->Verify(nullptr);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified.value().ok()) << verified.value().problems.front();
}

TEST_F(SearchTest, CountsUpToACeiling) {
  // 1,001 matches: the total stops at the ceiling and says so.
  std::vector<WriteCommand> batch;
  for (int i = 0; i < 1'001; ++i) {
    EnqueueRequest r;
    r.spec.type = "bulk";
    r.spec.owner = "alice";
    r.spec.payload_json = R"({"word":"needle"})";
    r.actor = "api";
    batch.emplace_back(std::move(r));
  }
  for (auto& written : store_->WriteMany(std::move(batch))) ASSERT_TRUE(written);
  auto page = store_->List(ListQuery{.limit = 10, .text = "needle"});
  ASSERT_TRUE(page);
  EXPECT_FALSE(page.value().total_exact);
  EXPECT_GE(page.value().total, 1'000u);
  EXPECT_TRUE(page.value().has_more);
}

}  // namespace
}  // namespace jobtrail::testing
