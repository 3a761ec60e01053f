#pragma once
// The configuration of one node, as files in its data directory (the
// default, with the embedded RocksDB log): keys.json (mode 0600),
// schedules.json (0644), share.key (0600). The formats are the owners'
// (config_store.h), unchanged from before this interface existed.
//
// Update takes an exclusive flock on "<file>.lock" (so the server and
// `jobtrail keys ...` never lose each other's changes), reads the file,
// and replaces it atomically: temp file, fsync, rename, fsync of the
// directory. A crash leaves the old or the new file.
#include <string>

#include "eventstore/config/config_store.h"

namespace jobtrail::config {

class FileConfigStore : public ConfigStore {
 public:
  explicit FileConfigStore(std::string data_dir) : dir_(std::move(data_dir)) {}

  // <data_dir>/keys.json, schedules.json or share.key.
  static std::string PathIn(const std::string& data_dir, Doc doc);

  std::string Describe(Doc doc) const override { return PathIn(dir_, doc); }
  bool shared() const override { return false; }
  Result<Snapshot> Read(Doc doc) override;
  Result<std::string> Version(Doc doc) override;
  Result<Snapshot> Update(Doc doc, const Change& change) override;

 private:
  std::string dir_;
};

}  // namespace jobtrail::config
