#pragma once
// RocksDB's info log, kept off the disk. By default RocksDB writes a LOG
// file into the database directory; on a full disk that file is the first
// to fail, and Debian's assertion-enabled librocksdb then aborts the
// process on the next line logged (WritableFileWriter after an error). So
// the log and the views give RocksDB a Logger that forwards lines elsewhere:
// LineLogger hands each formatted line (WARN and above by default) to a
// Sink: the server's spdlog logger "storage", or stderr (StderrSink).
#include <rocksdb/env.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>

namespace jobtrail::eventstore {

class LineLogger final : public rocksdb::Logger {
 public:
  using Sink = std::function<void(rocksdb::InfoLogLevel, std::string_view)>;
  LineLogger(Sink sink, rocksdb::InfoLogLevel level)
      : rocksdb::Logger(level), sink_(std::move(sink)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;

  // While quiet, only FATAL lines pass: DB::Open reports a missing WAL
  // directory of a new database as an "error", which it is not (a real
  // failure to open is returned, and reported, by the caller).
  void set_quiet(bool quiet) { quiet_.store(quiet, std::memory_order_relaxed); }

 private:
  Sink sink_;
  std::atomic<bool> quiet_{false};
};

// Lines to stderr, prefixed "rocksdb <name>:".
LineLogger::Sink StderrSink(std::string_view name);

}  // namespace jobtrail::eventstore
