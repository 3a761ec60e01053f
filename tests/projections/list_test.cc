// List indexes: filters, totals from counters, keyset pagination.
#include <rapidjson/document.h>

#include <algorithm>
#include <set>

#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class ListTest : public StoreTest {
 protected:
  static std::string IdOf(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.c_str());
    return d["id"].GetString();
  }
  std::vector<std::string> Ids(const ListPage& page) {
    std::vector<std::string> ids;
    for (const auto& j : page.items_json) ids.push_back(IdOf(j));
    return ids;
  }
};

TEST_F(ListTest, NewestFirstByDefaultWithTotals) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(1000);
    ids.push_back(Enqueue());
  }
  auto page = store_->List(ListQuery{});
  ASSERT_TRUE(page);
  EXPECT_EQ(page.value().total, 5u);
  EXPECT_FALSE(page.value().has_more);
  EXPECT_EQ(Ids(page.value()), std::vector<std::string>(ids.rbegin(), ids.rend()));
}

TEST_F(ListTest, FiltersByStatusTypeOwnerAndExternalRef) {
  const std::string a = Enqueue("email", "alice", "ref-a");
  const std::string b = Enqueue("pdf", "bob", "ref-b");
  const std::string c = Enqueue("pdf", "alice");
  MustAppend(b, Started{});
  MustAppend(c, Cancelled{"no longer needed", "alice"});

  ListQuery by_status;
  by_status.statuses = {JobStatus::kRunning};
  EXPECT_EQ(Ids(store_->List(by_status).value()), std::vector<std::string>{b});
  EXPECT_EQ(store_->List(by_status).value().total, 1u);

  ListQuery two_statuses;
  two_statuses.statuses = {JobStatus::kPending, JobStatus::kCancelled};
  auto two = store_->List(two_statuses).value();
  EXPECT_EQ(two.total, 2u);
  const auto two_ids = Ids(two);
  EXPECT_EQ(std::set<std::string>(two_ids.begin(), two_ids.end()), (std::set<std::string>{a, c}));

  ListQuery by_type;
  by_type.type = "pdf";
  EXPECT_EQ(store_->List(by_type).value().total, 2u);

  ListQuery owner_and_type;
  owner_and_type.owner = "alice";
  owner_and_type.type = "pdf";
  auto combined = store_->List(owner_and_type).value();
  EXPECT_EQ(Ids(combined), std::vector<std::string>{c});
  EXPECT_EQ(combined.total, 1u);

  ListQuery by_ref;
  by_ref.external_ref = "ref-a";
  EXPECT_EQ(Ids(store_->List(by_ref).value()), std::vector<std::string>{a});
}

TEST_F(ListTest, CreatedRangeIsHalfOpen) {
  const Millis t0 = clock_.Now();
  const std::string a = Enqueue();
  clock_.Advance(1000);
  const std::string b = Enqueue();
  clock_.Advance(1000);
  Enqueue();
  ListQuery q;
  q.created_after = t0 + 1000;
  q.created_before = t0 + 2000;
  auto page = store_->List(q).value();
  EXPECT_EQ(Ids(page), std::vector<std::string>{b});
  EXPECT_EQ(page.total, 1u);
}

TEST_F(ListTest, CursorPagesNeverSkipOrRepeatWhileJobsArrive) {
  std::set<std::string> originals;
  for (int i = 0; i < 25; ++i) {
    clock_.Advance(10);
    originals.insert(Enqueue());
  }
  ListQuery q;
  q.limit = 7;
  std::vector<std::string> seen;
  for (int page_no = 0; page_no < 10; ++page_no) {
    auto page = store_->List(q);
    ASSERT_TRUE(page);
    for (auto& id : Ids(page.value())) seen.push_back(id);
    // New jobs arrive between page reads; they are newer than the cursor.
    clock_.Advance(10);
    Enqueue();
    if (!page.value().has_more) break;
    q.cursor = page.value().next_cursor;
  }
  EXPECT_EQ(seen.size(), originals.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), originals);
}

TEST_F(ListTest, AscendingOrderAndSkip) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    clock_.Advance(10);
    ids.push_back(Enqueue());
  }
  ListQuery q;
  q.descending = false;
  q.skip = 2;
  q.limit = 3;
  auto page = store_->List(q).value();
  EXPECT_EQ(Ids(page), (std::vector<std::string>{ids[2], ids[3], ids[4]}));
  EXPECT_TRUE(page.has_more);
  EXPECT_EQ(page.total, 6u);
}

TEST_F(ListTest, SortByUpdatedFollowsTheLatestEvent) {
  const std::string a = Enqueue();
  clock_.Advance(10);
  const std::string b = Enqueue();
  clock_.Advance(10);
  MustAppend(a, Started{});
  ListQuery q;
  q.sort = SortField::kUpdated;
  EXPECT_EQ(Ids(store_->List(q).value()), (std::vector<std::string>{a, b}));
}

// No index keeps every job by updated time: the status indexes are merged.
// Jobs of four statuses, each touched at its own time, come out in one
// order, page by page, whichever way, with totals.
TEST_F(ListTest, SortByUpdatedMergesTheStatusesPageByPage) {
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    clock_.Advance(10);
    ids.push_back(Enqueue(i % 2 ? "pdf" : "email"));
  }
  // Touched in this order (oldest update first): 5 pending (never touched
  // since their enqueue, in enqueue order) ... then these.
  clock_.Advance(10);
  MustAppend(ids[6], Started{1, "w1", std::nullopt});  // running
  clock_.Advance(10);
  MustAppend(ids[1], Started{1, "w1", std::nullopt});
  clock_.Advance(10);
  MustAppend(ids[1], Completed{R"({"ok":true})", {}});  // completed
  clock_.Advance(10);
  MustAppend(ids[3], Cancelled{"no longer needed", "alice"});  // cancelled
  const std::vector<std::string> oldest_first = {ids[0], ids[2], ids[4], ids[5], ids[7],
                                                 ids[6], ids[1], ids[3]};

  for (const bool descending : {true, false}) {
    SCOPED_TRACE(descending ? "descending" : "ascending");
    ListQuery q;
    q.sort = SortField::kUpdated;
    q.descending = descending;
    q.limit = 3;
    std::vector<std::string> seen;
    for (int pages = 0; pages < 5; ++pages) {
      auto page = store_->List(q);
      ASSERT_TRUE(page) << page.error().message;
      EXPECT_EQ(page.value().total, 8u);
      for (auto& id : Ids(page.value())) seen.push_back(id);
      if (!page.value().has_more) break;
      q.cursor = page.value().next_cursor;
    }
    std::vector<std::string> expected = oldest_first;
    if (descending) std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(seen, expected);
  }

  // Two statuses, newest update first; with a type filter the total is
  // counted by walking them.
  ListQuery q;
  q.sort = SortField::kUpdated;
  q.statuses = {JobStatus::kPending, JobStatus::kCompleted};
  auto page = store_->List(q).value();
  EXPECT_EQ(Ids(page), (std::vector<std::string>{ids[1], ids[7], ids[5], ids[4], ids[2], ids[0]}));
  EXPECT_EQ(page.total, 6u);
  q.type = "pdf";
  page = store_->List(q).value();
  EXPECT_EQ(Ids(page), (std::vector<std::string>{ids[1], ids[7], ids[5]}));
  EXPECT_EQ(page.total, 3u);
  q.statuses.clear();
  page = store_->List(q).value();
  EXPECT_EQ(Ids(page), (std::vector<std::string>{ids[3], ids[1], ids[7], ids[5]}));
  EXPECT_EQ(page.total, 4u);
}

// Every filter of one type, queue or owner with statuses, against what the
// unfiltered list says of each job: totals (from the per-status counters)
// and every page, whichever index the list walks (the owner's, the
// status's: the smaller), live, after a restart and after a rebuild.
TEST_F(ListTest, OwnerQueueAndTypeListsByStatusAgreeWithEveryJob) {
  // alice has most jobs, few of them failed; most failed jobs are bob's.
  for (int i = 0; i < 40; ++i) {
    clock_.Advance(10);
    const std::string owner = i % 8 == 0 ? "bob" : (i % 8 == 1 ? "carol" : "alice");
    const std::string id = Enqueue(i % 3 ? "pdf" : "email", owner, "", 3, i % 2 ? "fast" : "slow");
    switch (i % 8) {
      case 0:
        MustAppend(id, Started{1, "w1", std::nullopt});
        MustAppend(id, Failed{"gave up", "", ""});
        break;
      case 1: MustAppend(id, Started{1, "w1", std::nullopt}); break;
      case 2:
        MustAppend(id, Started{1, "w1", std::nullopt});
        MustAppend(id, Completed{"{}", {}});
        break;
      case 3: MustAppend(id, Cancelled{"no", "api"}); break;
      case 4:
        if (i != 4) break;  // pending
        MustAppend(id, Started{1, "w1", std::nullopt});
        MustAppend(id, Failed{"alice's only failure", "", ""});
        break;
      case 5:
        MustAppend(id, Started{1, "w1", std::nullopt});
        MustAppend(id, Screenshot("Element not found", i));
        MustAppend(id, Retried{2, clock_.Now() + 60000, 60000});
        break;
      default: break;  // pending
    }
  }

  struct Job {
    std::string id, type, owner, queue, status;
  };
  auto everything = [&] {
    ListQuery all;
    all.limit = 1000;
    std::vector<Job> jobs;
    rapidjson::Document d;
    const auto page = store_->List(all);
    EXPECT_TRUE(page);
    if (!page) return jobs;
    for (const std::string& json : page.value().items_json) {
      d.Parse(json.c_str());
      jobs.push_back({d["id"].GetString(), d["type"].GetString(), d["owner"].GetString(),
                      d["queue"].GetString(), d["status"].GetString()});
    }
    return jobs;
  };
  auto check = [&](const char* when) {
    const std::vector<Job> jobs = everything();
    ASSERT_EQ(jobs.size(), 40u) << when;
    const std::vector<std::vector<JobStatus>> status_sets = {
        {JobStatus::kFailed},  {JobStatus::kPending},  {JobStatus::kRunning},
        {JobStatus::kCompleted}, {JobStatus::kCancelled}, {JobStatus::kRetrying},
        {JobStatus::kFailed, JobStatus::kPending}};
    const std::vector<std::pair<std::string, std::string>> filters = {
        {"owner", "alice"}, {"owner", "bob"},   {"owner", "carol"}, {"owner", "dave"},
        {"type", "pdf"},    {"type", "email"},  {"queue", "fast"},  {"queue", "slow"}};
    for (const auto& [dim, value] : filters) {
      for (const auto& statuses : status_sets) {
        ListQuery q;
        (dim == "owner" ? q.owner : dim == "type" ? q.type : q.queue) = value;
        q.statuses = statuses;
        std::vector<std::string> expected;  // newest first, as the list is
        for (const Job& j : jobs) {
          const std::string& of = dim == "owner" ? j.owner : dim == "type" ? j.type : j.queue;
          const bool in_status = std::any_of(statuses.begin(), statuses.end(),
                                             [&](JobStatus st) { return StatusName(st) == j.status; });
          if (of == value && in_status) expected.push_back(j.id);
        }
        const std::string what = std::string(when) + " " + dim + "=" + value + " " +
                                 std::string(StatusName(statuses[0])) +
                                 (statuses.size() > 1 ? "+" : "");
        q.limit = 3;
        std::vector<std::string> paged;
        for (int pages = 0; pages < 20; ++pages) {
          auto page = store_->List(q);
          ASSERT_TRUE(page) << what << ": " << page.error().ToString();
          EXPECT_EQ(page.value().total, expected.size()) << what;
          for (const auto& id : Ids(page.value())) paged.push_back(id);
          if (!page.value().has_more) break;
          q.cursor = page.value().next_cursor;
        }
        EXPECT_EQ(paged, expected) << what;
      }
    }
  };
  check("live");
  Reopen();
  ASSERT_TRUE(store_->Progress().ready);
  check("after a restart");
  ASSERT_TRUE(store_->Rebuild(nullptr));
  check("after a rebuild");
}

TEST_F(ListTest, BadCursorAndLimitAreRejected) {
  ListQuery q;
  q.cursor = "zz-not-hex";
  EXPECT_EQ(store_->List(q).error().reason, "INVALID_CURSOR");
  q.cursor.clear();
  q.limit = 0;
  EXPECT_EQ(store_->List(q).error().reason, "INVALID_INPUT");
  q.limit = 1001;
  EXPECT_EQ(store_->List(q).error().reason, "INVALID_INPUT");
}

}  // namespace
}  // namespace jobtrail::testing
