// Opening paths that are not jobtrail logs gives a clear error, never a
// crash, and leaves what is there untouched.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <fstream>

#include "eventstore/key_format.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_util::Events;
using testing_util::OpenLog;
using testing_util::TempDir;

StoreResult<std::unique_ptr<RocksEventLog>> TryOpen(const std::string& dir,
                                                    bool create_if_missing = true) {
  RocksEventLogOptions options;
  options.create_if_missing = create_if_missing;
  return RocksEventLog::Open(dir, options);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::vector<std::string> Families(const std::string& dir) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  return names;
}

TEST(OpenTest, CreatesAMissingOrEmptyDirectory) {
  TempDir dir;
  EXPECT_NE(OpenLog(dir.Sub("new")), nullptr);
  TempDir empty;
  EXPECT_NE(OpenLog(empty.path()), nullptr);
}

TEST(OpenTest, MissingDirectoryWithoutCreateIsNotFound) {
  TempDir dir;
  auto r = TryOpen(dir.Sub("missing"), /*create_if_missing=*/false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreCode::kNotFound);
}

TEST(OpenTest, DirectoryOfOtherFilesIsRefused) {
  TempDir dir;
  WriteFile(dir.Sub("notes.txt"), "hello");
  WriteFile(dir.Sub("random.bin"), std::string("\x00\x13\xff\x7f", 4));
  auto r = TryOpen(dir.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreCode::kCorruption);
  EXPECT_NE(r.error().message.find("no jobtrail event log"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("CURRENT")));  // untouched
}

TEST(OpenTest, GarbageCurrentFileIsRefused) {
  TempDir dir;
  WriteFile(dir.Sub("CURRENT"), "MANIFEST-000042\n");
  WriteFile(dir.Sub("MANIFEST-000042"), "not a manifest at all");
  auto r = TryOpen(dir.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreCode::kCorruption) << r.error().message;

  TempDir binary;
  WriteFile(binary.Sub("CURRENT"), std::string("\xff\xfe\x00garbage", 10));
  auto r2 = TryOpen(binary.path());
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, StoreCode::kCorruption) << r2.error().message;
}

TEST(OpenTest, PlainFileIsRefused) {
  TempDir dir;
  WriteFile(dir.Sub("file"), "x");
  auto r = TryOpen(dir.Sub("file"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreCode::kCorruption);
}

TEST(OpenTest, ForeignRocksDbIsRefusedAndLeftAlone) {
  TempDir dir;
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "user-key", "user-value").ok());
  }
  auto r = TryOpen(dir.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreCode::kCorruption);
  EXPECT_NE(r.error().message.find("not a jobtrail event log"), std::string::npos)
      << r.error().message;
  // No column family was added to it.
  EXPECT_EQ(Families(dir.path()), std::vector<std::string>{"default"});
}

TEST(OpenTest, ForeignRocksDbWithOtherFamiliesIsRefused) {
  TempDir dir;
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "users", &cf).ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(cf).ok());
  }
  auto r = TryOpen(dir.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreCode::kCorruption);
}

// A RocksDB with our families but data and no marker (or a wrong one) is
// not ours either.
TEST(OpenTest, WrongOrMissingFormatMarkerIsRefused) {
  TempDir dir;
  {
    auto log = OpenLog(dir.path());
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append("s", kNoStream, Events("e", 2)));
  }
  auto rewrite_marker = [&](const char* value) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& name : Families(dir.path())) families.push_back({name, {}});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.path(), families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const std::string key(key_format::kFormatKey);
    if (value == nullptr) {
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), key).ok());
    } else {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
    }
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  };
  rewrite_marker("someone-elses-format-v9");
  auto wrong = TryOpen(dir.path());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, StoreCode::kCorruption);
  EXPECT_NE(wrong.error().message.find("someone-elses-format-v9"), std::string::npos);

  rewrite_marker(nullptr);
  auto missing = TryOpen(dir.path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, StoreCode::kCorruption);
}

TEST(OpenTest, SecondOpenOfALiveLogIsAnErrorNotACrash) {
  TempDir dir;
  auto first = OpenLog(dir.path());
  ASSERT_NE(first, nullptr);
  auto second = TryOpen(dir.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, StoreCode::kIOError) << second.error().message;
}

}  // namespace
}  // namespace jobtrail::eventstore
