#include "eventstore/rocks_logger.h"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace jobtrail::eventstore {

void LineLogger::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
  if (quiet_.load(std::memory_order_relaxed) && level < rocksdb::InfoLogLevel::FATAL_LEVEL) {
    return;
  }
  char small[512];
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(small, sizeof small, format, copy);
  va_end(copy);
  if (n < 0) return;
  std::string line;
  if (size_t(n) < sizeof small) {
    line.assign(small, size_t(n));
  } else {
    line.resize(size_t(n) + 1);
    std::vsnprintf(line.data(), line.size(), format, ap);
    line.resize(size_t(n));
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  sink_(level, line);
}

LineLogger::Sink StderrSink(std::string_view name) {
  return [prefix = std::string(name)](rocksdb::InfoLogLevel, std::string_view line) {
    std::fprintf(stderr, "rocksdb %s: %.*s\n", prefix.c_str(), int(line.size()), line.data());
  };
}

}  // namespace jobtrail::eventstore
