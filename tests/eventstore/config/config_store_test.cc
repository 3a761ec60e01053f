// The ConfigStore contract, on files and on PostgreSQL: absent documents,
// atomic read-modify-writes that lose nothing under concurrent writers
// (two store objects: two processes' or two nodes' worth of connections),
// versions that move exactly when the text does, errors that change
// nothing, and CachedDoc seeing another writer's change.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "eventstore/config/cached_doc.h"
#include "eventstore/config/file_config_store.h"
#include "eventstore/config/postgres/pg_config_store.h"
#include "tests/eventstore/postgres/pg_test_db.h"

namespace jobtrail::config {
namespace {

class ConfigStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      db_ = std::make_unique<testing_pg::TestDatabase>();
      ASSERT_TRUE(db_->ok());
    } else {
      dir_ = (std::filesystem::temp_directory_path() / "jobtrail-config-XXXXXX").string();
      ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    }
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // A new store object on the same documents (another node's, another
  // process's).
  std::shared_ptr<ConfigStore> Open() {
    if (db_) return std::make_shared<PgConfigStore>(db_->url());
    return std::make_shared<FileConfigStore>(dir_);
  }
  static Result<Snapshot> Set(ConfigStore& store, Doc doc, const std::string& text) {
    return store.Update(doc, [&](const Snapshot&) -> Result<std::optional<std::string>> {
      return std::optional<std::string>(text);
    });
  }

  std::unique_ptr<testing_pg::TestDatabase> db_;
  std::string dir_;
};

TEST_P(ConfigStoreTest, AnAbsentDocumentThenItsFirstVersion) {
  auto store = Open();
  auto absent = store->Read(Doc::kSchedules);
  ASSERT_TRUE(absent) << absent.error().ToString();
  EXPECT_FALSE(absent.value().exists);
  EXPECT_EQ(absent.value().version, "");
  EXPECT_EQ(store->Version(Doc::kSchedules).value(), "");

  auto written = Set(*store, Doc::kSchedules, "{\"schedules\":[]}");
  ASSERT_TRUE(written) << written.error().ToString();
  EXPECT_TRUE(written.value().exists);
  EXPECT_EQ(written.value().text, "{\"schedules\":[]}");
  EXPECT_NE(written.value().version, "");
  EXPECT_EQ(store->Version(Doc::kSchedules).value(), written.value().version);
  auto read = Open()->Read(Doc::kSchedules);
  ASSERT_TRUE(read);
  EXPECT_EQ(read.value().text, "{\"schedules\":[]}");
  EXPECT_EQ(read.value().version, written.value().version);
  // Documents are separate.
  EXPECT_FALSE(store->Read(Doc::kApiKeys).value().exists);
}

TEST_P(ConfigStoreTest, NoChangeAndAFailedChangeLeaveTheDocumentAsItWas) {
  auto store = Open();
  auto first = Set(*store, Doc::kApiKeys, "one");
  ASSERT_TRUE(first);
  auto same = store->Update(Doc::kApiKeys, [](const Snapshot& s)
                                               -> Result<std::optional<std::string>> {
    EXPECT_EQ(s.text, "one");
    return std::optional<std::string>();
  });
  ASSERT_TRUE(same);
  EXPECT_EQ(same.value().version, first.value().version);
  auto failed = store->Update(Doc::kApiKeys,
                              [](const Snapshot&) -> Result<std::optional<std::string>> {
                                return InvalidArgument("no");
                              });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Code::kInvalidArgument);
  EXPECT_EQ(store->Read(Doc::kApiKeys).value().text, "one");
  EXPECT_EQ(store->Version(Doc::kApiKeys).value(), first.value().version);
  // A change on a missing document that changes nothing leaves it missing.
  auto nothing = store->Update(Doc::kShareKey, [](const Snapshot& s)
                                                   -> Result<std::optional<std::string>> {
    EXPECT_FALSE(s.exists);
    return std::optional<std::string>();
  });
  ASSERT_TRUE(nothing);
  EXPECT_FALSE(nothing.value().exists);
  EXPECT_FALSE(store->Read(Doc::kShareKey).value().exists);
}

TEST_P(ConfigStoreTest, ConcurrentWritersOnTwoStoresLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::shared_ptr<ConfigStore>> stores = {Open(), Open()};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // One store object per thread on PostgreSQL (a store runs one call
      // at a time); the file store is shared by two threads each.
      auto store = db_ ? Open() : stores[size_t(t) % 2];
      for (int i = 0; i < kEach; ++i) {
        auto r = store->Update(Doc::kSchedules, [](const Snapshot& s)
                                                    -> Result<std::optional<std::string>> {
          const int n = s.exists ? std::stoi(s.text) : 0;
          return std::optional<std::string>(std::to_string(n + 1));
        });
        ASSERT_TRUE(r) << r.error().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stores[1]->Read(Doc::kSchedules).value().text, std::to_string(kThreads * kEach));
}

TEST_P(ConfigStoreTest, ACachedCopySeesAnotherWritersChange) {
  auto mine = Open();
  auto theirs = Open();
  ASSERT_TRUE(Set(*theirs, Doc::kApiKeys, "v1"));
  CachedDoc<std::string> doc(
      mine, Doc::kApiKeys,
      [](const Snapshot& s) -> Result<std::string> {
        if (s.text == "bad") return DataLoss("bad document");
        return s.text;
      },
      std::chrono::milliseconds(0));
  ASSERT_TRUE(doc.Load());
  EXPECT_EQ(*doc.Get(), "v1");
  ASSERT_TRUE(Set(*theirs, Doc::kApiKeys, "v2, longer"));
  EXPECT_EQ(*doc.Get(), "v2, longer");
  // A document that no longer parses: the last good copy stays in use.
  ASSERT_TRUE(Set(*theirs, Doc::kApiKeys, "bad"));
  EXPECT_EQ(*doc.Get(), "v2, longer");
  ASSERT_TRUE(Set(*theirs, Doc::kApiKeys, "v3"));
  EXPECT_EQ(*doc.Get(), "v3");
}

INSTANTIATE_TEST_SUITE_P(Backends, ConfigStoreTest, ::testing::Values("files", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(FileConfigStore, KeepsTheFilesAndModesOfBefore) {
  std::string dir = (std::filesystem::temp_directory_path() / "jobtrail-config-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  FileConfigStore store(dir);
  for (Doc doc : {Doc::kApiKeys, Doc::kSchedules, Doc::kShareKey}) {
    ASSERT_TRUE(store.Update(doc, [](const Snapshot&) -> Result<std::optional<std::string>> {
      return std::optional<std::string>("x");
    }));
  }
  namespace fs = std::filesystem;
  auto mode = [&](const char* name) {
    return fs::status(fs::path(dir) / name).permissions() & fs::perms::all;
  };
  EXPECT_EQ(mode("keys.json"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(mode("share.key"), fs::perms::owner_read | fs::perms::owner_write);
  // schedules.json: 0644 less the umask, as before.
  EXPECT_EQ(mode("schedules.json") & (fs::perms::group_write | fs::perms::others_write),
            fs::perms::none);
  EXPECT_FALSE(fs::exists(fs::path(dir) / "keys.json.tmp"));
  fs::remove_all(dir);
}

TEST(PgConfigStore, AnUnreachableDatabaseIsUnavailableAndNamesNoPassword) {
  PgConfigStore store("postgresql://u:pw-secret-123@127.0.0.1:1/db?connect_timeout=2");
  auto read = store.Read(Doc::kApiKeys);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Code::kUnavailable);
  EXPECT_EQ(read.error().reason, "STORAGE_UNAVAILABLE");
  EXPECT_EQ(read.error().message.find("pw-secret"), std::string::npos);
  EXPECT_EQ(store.Describe(Doc::kApiKeys).find("pw-secret"), std::string::npos);
}

}  // namespace
}  // namespace jobtrail::config
