// `jobtrail rebuild` and `jobtrail verify`.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "http/cli/commands.h"

namespace jobtrail::cli {
namespace {

// A progress bar on a terminal, nothing otherwise (logs stay clean).
class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), tty_(isatty(2) == 1) {}
  void Update(uint64_t done, uint64_t total) {
    if (!tty_ || total == 0) return;
    const int width = 40;
    const int filled = int(double(done) / double(total) * width);
    std::fprintf(stderr, "\r%s [%s%s] %3d%% %llu/%llu", label_.c_str(),
                 std::string(size_t(filled), '=').c_str(),
                 std::string(size_t(width - filled), ' ').c_str(),
                 int(double(done) * 100.0 / double(total)), (unsigned long long)done,
                 (unsigned long long)total);
    std::fflush(stderr);
  }
  void Finish() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  std::string label_;
  bool tty_;
};

}  // namespace

int Rebuild(const StoreFlags& flags) {
  auto store = OpenStore(flags, /*create=*/false);
  if (!store) return 1;
  const uint64_t events = store->Progress().log_position;
  ProgressBar bar("rebuilding");
  const auto start = std::chrono::steady_clock::now();
  auto rebuilt = store->Rebuild([&](uint64_t done, uint64_t total) { bar.Update(done, total); });
  bar.Finish();
  if (!rebuilt) {
    std::cerr << "jobtrail: rebuild failed: " << rebuilt.error().message << "\n";
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("rebuilt read models from {} events in {:.2f} s ({:.0f} events/s)\n",
                           events, seconds, seconds > 0 ? double(events) / seconds : 0.0);
  return 0;
}

int Verify(const StoreFlags& flags) {
  auto store = OpenReader(flags);  // works beside a running server
  if (!store) return 1;
  ProgressBar bar("verifying");
  auto report = store->Verify([&](uint64_t done, uint64_t total) { bar.Update(done, total); });
  bar.Finish();
  if (!report) {
    std::cerr << "jobtrail: verify could not run: " << report.error().message << "\n";
    return 1;
  }
  const auto& r = report.value();
  if (r.ok()) {
    std::cout << fmt::format(
        "ok: {} events in {} streams{}; positions and versions contiguous, every event decodes, "
        "hash chain intact, read models equal a fresh fold\n",
        r.events, r.streams,
        r.archived_events == 0 ? ""
                               : fmt::format(" ({} of them in the archive)", r.archived_events));
    return 0;
  }
  std::cout << fmt::format("FAILED: {} problem(s) in {} events:\n", r.problems.size(), r.events);
  for (const auto& p : r.problems) std::cout << "  - " << p << "\n";
  return 1;
}

}  // namespace jobtrail::cli
