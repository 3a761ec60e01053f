#pragma once
// Which log a node's read models were folded from. With a shared log
// (JobStoreOptions::open_log) the data directory holds only views/, and a
// file beside them, <data-dir>/log-identity, names the log (its id). Views
// of another log, or of an unknown one, are derived data of the wrong
// source: they are dropped, and the projection refolds them from position 0.
// (A file, not a key in the views: `verify` compares the views key by key
// with a fresh fold.)
#include <string>

#include "domain/error.h"

namespace jobtrail {

// Before the views are opened: drops `views_dir` unless <data_dir>/
// log-identity names `identity`, then records `identity` there (0600).
// An empty identity (a log that has none) changes nothing.
Result<void> FollowLog(const std::string& data_dir, const std::string& views_dir,
                       const std::string& identity);

}  // namespace jobtrail
