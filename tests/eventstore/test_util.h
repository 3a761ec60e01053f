#pragma once
// Helpers shared by the event log tests: a temp dir per test, opening a
// log, and building appends.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "eventstore/rocks_event_log.h"

namespace jobtrail::eventstore::testing_util {

// A fresh directory under the test temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "eventstore_test.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::unique_ptr<RocksEventLog> OpenLog(const std::string& dir,
                                              Durability durability = Durability::kSync,
                                              rocksdb::Env* env = nullptr) {
  RocksEventLogOptions options;
  options.durability = durability;
  options.env = env;
  auto log = RocksEventLog::Open(dir, options);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().message);
  return log ? std::move(log.value()) : nullptr;
}

// Events with ids "<prefix>-0", "<prefix>-1"... and data "data of <id>".
inline std::vector<EventToAppend> Events(const std::string& prefix, int count) {
  std::vector<EventToAppend> events;
  for (int i = 0; i < count; ++i) {
    std::string id = prefix + "-" + std::to_string(i);
    events.push_back({id, "data of " + id});
  }
  return events;
}

inline std::vector<EventToAppend> Ids(std::initializer_list<const char*> ids) {
  std::vector<EventToAppend> events;
  for (const char* id : ids) events.push_back({id, std::string("data of ") + id});
  return events;
}

}  // namespace jobtrail::eventstore::testing_util
