// SortedRun (projections/sorted_runs.h): whatever the order rows are
// written in, the files hold them in key order, the last write of a key
// wins, and a run cut into parts gives the same rows. Buckets large enough
// to be radix sorted, keys that share long prefixes or end before the
// 16 bytes held inline, and prefixes that begin others are all covered.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <map>
#include <optional>
#include <random>

#include "projections/sorted_runs.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

using Model = std::map<std::string, std::optional<std::string>>;

std::string RandomKey(std::mt19937_64& rng) {
  auto digits = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(char('a' + rng() % 3));  // few letters: collisions
    return s;
  };
  switch (rng() % 6) {
    case 0:  // a one-byte prefix, a random tail of any length
      return "j" + digits(rng() % 40);
    case 1:  // an index: "x" dim 0 value 0 sort, then 16+ bytes
      return std::string("xall\0\0c", 7) + digits(10 + rng() % 20);
    case 2:  // another value of the same dimension, or a bare "x" key (its
             // bucket's prefix "x" begins the others': sorted together)
      if (rng() % 4 == 0) return "x" + digits(rng() % 30);
      return std::string("xtype\0pdf\0c", 11) + digits(rng() % 30);
    case 3:  // a claim queue, and a queue whose name begins another's
      return std::string(rng() % 2 ? "qmail\0" : "qmailer\0", rng() % 2 ? 6 : 8) + digits(12);
    case 4:  // a short key, shorter than the inline heads
      return "p" + digits(rng() % 4);
    default:  // keys that share 20 bytes and differ after
      return "l" + std::string(20, 'z') + digits(rng() % 6);
  }
}

std::map<std::string, std::string> ReadBack(const std::string& dir,
                                            const std::vector<std::string>& files) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::Open(options, dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  EXPECT_TRUE(db->IngestExternalFile(files, ingest).ok());
  std::map<std::string, std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out[it->key().ToString()] = it->value().ToString();
  return out;
}

TEST(SortedRunTest, RowsComeOutInKeyOrderWithTheLastWriteOfEachKey) {
  const std::string dir = MakeTempDir("jobtrail-sorted-runs");
  std::mt19937_64 rng(7);
  SortedRun run;
  for (int round = 0; round < 2; ++round) {  // a cleared run is filled again
    Model model;
    for (int i = 0; i < 60000; ++i) {
      const std::string key = RandomKey(rng);
      if (rng() % 5 == 0) {
        run.Delete(key);
        model[key] = std::nullopt;
      } else {
        const std::string value = "v" + std::to_string(i);
        run.Put(key, value);
        model[key] = value;
      }
    }
    std::map<std::string, std::string> expected;
    for (const auto& [key, value] : model) {
      if (value) expected[key] = *value;
    }
    for (size_t parts : {size_t{1}, size_t{3}}) {
      const std::string prefix = dir + "/run-" + std::to_string(round) + "-" + std::to_string(parts);
      auto files = run.WriteTo(rocksdb::Options(), prefix, parts);
      ASSERT_TRUE(files) << files.error().ToString();
      EXPECT_EQ(files.value().size(), parts);
      EXPECT_EQ(ReadBack(prefix + "-db", files.value()), expected) << parts << " parts";
    }
    run.Clear();
    EXPECT_EQ(run.rows(), 0u);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace jobtrail::testing
