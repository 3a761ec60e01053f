// JobStore::Verify: the log's own checks plus "the read models are exactly
// a fresh fold of the log".
#include <fmt/format.h>

#include <filesystem>

#include "eventstore/log_verifier.h"
#include "projections/rocks_job_store.h"
#include "projections/uuid.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr size_t kMaxDiffs = 20;

std::string Printable(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(char(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

}  // namespace

Result<VerifyReport> RocksJobStore::Verify(
    const std::function<void(uint64_t, uint64_t)>& progress) {
  VerifyReport report;
  const uint64_t last = log_->LastPosition();
  auto log_report = eventstore::VerifyLog(
      *log_,
      [](const eventstore::StoredEvent& e) -> std::optional<std::string> {
        auto decoded = DecodeStored(e);
        if (!decoded) return decoded.error().message;
        return std::nullopt;
      },
      [&](uint64_t position) {
        if (progress) progress(position, last * 2);
      });
  if (!log_report) return FromStoreError(log_report.error());
  report.events = log_report.value().events;
  report.streams = log_report.value().streams;
  report.archived_events = log_report.value().archived_events;
  for (auto& p : log_report.value().problems) report.problems.push_back("log: " + p);

  // A fresh fold into a scratch database beside the live one.
  // Beside the live views; read-only, nothing is written into the data
  // directory: the fold goes with the secondaries' own files.
  const std::string scratch_dir = options_.read_only
                                      ? scratch_dir_ + "/verify-" + RandomUuid()
                                      : views_dir_ + ".verify-" + RandomUuid();
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, scratch_dir, &raw);
  if (!s.ok()) return Internal(fmt::format("verify: cannot open scratch views: {}", s.ToString()));
  std::unique_ptr<rocksdb::DB> scratch(raw);
  auto cleanup = [&] {
    if (scratch) (void)scratch->Close();  // destroyed right after
    scratch.reset();
    (void)rocksdb::DestroyDB(scratch_dir, opts);  // best effort: a scratch copy
    std::error_code ec;
    std::filesystem::remove_all(scratch_dir, ec);
  };
  s = scratch->Put(rocksdb::WriteOptions(), vk::kFormatKey, vk::kViewsFormat);
  Projector fresh(scratch.get(), log_.get());
  // The archived part of the history first (compaction), then the log.
  // Read-only (beside a server), the read models are what the server had
  // flushed: compare them with a fold of the log up to their checkpoint.
  const uint64_t fold_to = options_.read_only ? std::min(last, projector_->checkpoint()) : last;
  bool folding = true;
  if (auto folded = FoldArchive(fresh, fold_to); !folded) {
    report.problems.push_back("fold of the archive: " + folded.error().message);
    folding = false;
  }
  uint64_t position = 0;
  while (s.ok() && position < fold_to && folding) {
    auto batch = log_->ReadAll(position + 1, 2048);
    if (!batch) {
      cleanup();
      return FromStoreError(batch.error());
    }
    while (!batch.value().empty() && batch.value().back().position > fold_to) {
      batch.value().pop_back();
    }
    if (batch.value().empty()) {
      if (auto skipped = fresh.SkipArchived(); !skipped) {
        report.problems.push_back("fold: " + skipped.error().message);
      }
      break;
    }
    auto applied = fresh.ApplyBatch(batch.value());
    if (!applied) {
      report.problems.push_back("fold: " + applied.error().message);
      break;
    }
    position = batch.value().back().position;
    if (progress) progress(last + position, last * 2);
  }
  if (!s.ok()) {
    cleanup();
    return Internal(fmt::format("verify: {}", s.ToString()));
  }

  if (options_.read_only && projector_->checkpoint() > last) {
    report.problems.push_back(fmt::format("views: at position {}, past the log's end {}",
                                          projector_->checkpoint(), last));
  } else if (auto waited = options_.read_only ? Result<void>(Ok()) : WaitProjected(last);
             !waited) {
    report.problems.push_back("views: " + waited.error().message);
  } else if (report.problems.empty()) {
    // The live views may move on past `last` meanwhile; compare from one
    // snapshot and only if it sits exactly at `last`.
    // (A secondary changes only when told to catch up: no snapshot needed.)
    const rocksdb::Snapshot* snap = options_.read_only ? nullptr : views_->GetSnapshot();
    rocksdb::ReadOptions live_ro;
    live_ro.snapshot = snap;
    std::unique_ptr<rocksdb::Iterator> a(views_->NewIterator(live_ro));
    std::unique_ptr<rocksdb::Iterator> b(scratch->NewIterator(rocksdb::ReadOptions()));
    a->SeekToFirst();
    b->SeekToFirst();
    size_t diffs = 0;
    while ((a->Valid() || b->Valid()) && diffs < kMaxDiffs) {
      const int order = !a->Valid()   ? 1
                        : !b->Valid() ? -1
                                      : a->key().compare(b->key());
      if (options_.read_only && (order == 0 || !a->Valid() || !b->Valid()) &&
          (a->Valid() ? a->key() : b->key()) == vk::kCheckpointKey) {
        // Read-only, the server's read models may stand at the start of an
        // archived range that has grown since: the fold passes over it.
        if (a->Valid() && a->key() == vk::kCheckpointKey) a->Next();
        if (b->Valid() && b->key() == vk::kCheckpointKey) b->Next();
        continue;
      }
      if (order < 0) {
        report.problems.push_back(
            fmt::format("views: key '{}' is not in a fresh fold", Printable(a->key().ToStringView())));
        ++diffs;
        a->Next();
      } else if (order > 0) {
        report.problems.push_back(
            fmt::format("views: key '{}' is missing", Printable(b->key().ToStringView())));
        ++diffs;
        b->Next();
      } else {
        if (a->value() != b->value()) {
          report.problems.push_back(fmt::format("views: value of '{}' differs from a fresh fold",
                                                Printable(a->key().ToStringView())));
          ++diffs;
        }
        a->Next();
        b->Next();
      }
    }
    a.reset();
    if (snap != nullptr) views_->ReleaseSnapshot(snap);
  }
  cleanup();
  return report;
}

}  // namespace jobtrail
