// The child of crash_test.cc: appends batches to the log from several
// threads until it is killed, and after each acknowledged append writes
// "stream last_version count" on stdout (one write(2) per line, so a line
// the parent reads was acknowledged before it was written).
//
// usage: eventstore_crash_child DIR RUN_ID THREADS sync|nosync
// Event data: "batch <stream>/<first version> size <n> index <i>".
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/rocks_event_log.h"

namespace {

using jobtrail::eventstore::Durability;
using jobtrail::eventstore::EventToAppend;
using jobtrail::eventstore::kNoStream;
using jobtrail::eventstore::RocksEventLog;
using jobtrail::eventstore::RocksEventLogOptions;

constexpr int kMaxAppendsPerThread = 20000;  // a bound if nobody kills us

void WriteAll(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) std::_Exit(3);  // the parent is gone
    done += size_t(n);
  }
}

void Appender(RocksEventLog& log, const std::string& run, int thread) {
  std::mt19937 rng(std::random_device{}());
  for (int stream_no = 0, appends = 0; appends < kMaxAppendsPerThread; ++stream_no) {
    const std::string stream = run + "-t" + std::to_string(thread) + "-s" + std::to_string(stream_no);
    uint64_t version = kNoStream;
    // A few appends per stream, as a job's life would have.
    for (int k = 0; k < 4 && appends < kMaxAppendsPerThread; ++k, ++appends) {
      const int size = 1 + int(rng() % 5);
      std::vector<EventToAppend> events;
      for (int i = 0; i < size; ++i) {
        events.push_back({stream + "/" + std::to_string(version + 1 + i),
                          "batch " + stream + "/" + std::to_string(version + 1) + " size " +
                              std::to_string(size) + " index " + std::to_string(i)});
      }
      auto r = log.Append(stream, version, std::move(events));
      if (!r) {
        std::fprintf(stderr, "append failed: %s\n", r.error().message.c_str());
        std::_Exit(2);
      }
      version = r.value().last_version;
      WriteAll(stream + " " + std::to_string(version) + " " + std::to_string(size) + "\n");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s DIR RUN_ID THREADS sync|nosync\n", argv[0]);
    return 64;
  }
  RocksEventLogOptions options;
  options.durability = std::string(argv[4]) == "sync" ? Durability::kSync : Durability::kNoSync;
  auto log = RocksEventLog::Open(argv[1], options);
  if (!log) {
    std::fprintf(stderr, "open failed: %s\n", log.error().message.c_str());
    return 1;
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < std::atoi(argv[3]); ++t) {
    threads.emplace_back(Appender, std::ref(*log.value()), std::string(argv[2]), t);
  }
  for (auto& t : threads) t.join();
  return 0;
}
