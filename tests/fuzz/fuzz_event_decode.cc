// libFuzzer target: decoding stored events (schemas/event_codec.h). Any
// bytes must decode or fail with an error, never crash; what decodes must
// re-encode to a fixed point (bytes, not ==: a stored NaN is not == itself).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "schemas/event_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto decoded = jobtrail::DecodeEvent(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!decoded) return 0;
  const std::string once = jobtrail::EncodeEvent(decoded.value());
  auto again = jobtrail::DecodeEvent(once);
  if (!again || jobtrail::EncodeEvent(again.value()) != once) std::abort();
  return 0;
}
