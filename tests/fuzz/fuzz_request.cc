// libFuzzer target: everything that reads hostile bytes from a request
// before the store sees them. The first byte picks the reader; the rest is
// its input:
//   0 enqueue body   1 events body   2 cancel body   3 batch body
//   4 list/feed query ("k=v&k=v")   5 JWT (HS256 + claims checks)
//   6 share token    7 keys.json    8 API key / bearer lookup
//   9 enqueue body through the state machine's check: an accepted enqueue
//     never carries a name with a control character (domain/names.h)
// Every outcome is fine except a crash, a sanitizer report or a hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/clock.h"
#include "domain/job_view.h"
#include "domain/names.h"
#include "http/security/jwt_verifier.h"
#include "http/security/key_store.h"
#include "http/security/share_token.h"
#include "http/server/json_reader.h"
#include "http/v1/query_parsing.h"
#include "http/v1/request_parsing.h"

namespace {

using namespace jobtrail;
using namespace jobtrail::http;

constexpr Millis kNow = 1705314600000;
const std::string kSecret = "fuzz-secret-0123456789abcdef0123456789";

void Body(uint8_t which, std::string_view body) {
  if (which == 2) {
    (void)ParseCancel(body);
    return;
  }
  rapidjson::Document doc;
  if (!ParseJsonBody(body, doc)) return;
  switch (which) {
    case 0: (void)ParseEnqueue(doc, ""); break;
    case 1: (void)ParseEventsBody(doc); break;
    case 3: (void)ParseBatch(doc, 50); break;
  }
}

// The names rule holds for whatever a parsed enqueue carries: if the state
// machine accepts it, no name has a control character (abort otherwise, so
// libFuzzer reports it).
void EnqueueNames(std::string_view body) {
  rapidjson::Document doc;
  if (!ParseJsonBody(body, doc)) return;
  auto request = ParseEnqueue(doc, "");
  if (!request) return;
  const Enqueued& spec = request.value().spec;
  if (!CheckTransition(JobView{}, EventBody{spec})) return;
  for (const std::string* name :
       {&spec.type, &spec.queue, &spec.owner, &spec.external_ref, &spec.unique_key}) {
    for (char c : *name) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) __builtin_trap();
    }
  }
}

void Query(std::string_view text) {
  HttpRequest request;
  size_t start = 0;
  while (start <= text.size()) {
    size_t amp = text.find('&', start);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view pair = text.substr(start, amp - start);
    const size_t eq = pair.find('=');
    request.query.emplace_back(std::string(pair.substr(0, eq)),
                               eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
    start = amp + 1;
  }
  (void)ParseListQuery(request);
  (void)ParseFeedQuery(request);
  (void)PercentDecode(text, true);
}

const JwtVerifier& Jwt() {
  static const auto verifier = [] {
    JwtOptions o;
    o.hs256_secret = kSecret;
    o.issuer = "https://auth.example.com";
    o.audience = "jobtrail";
    return JwtVerifier::Create(o).value();
  }();
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t which = data[0] % 10;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (which) {
    case 0: case 1: case 2: case 3: Body(which, input); break;
    case 4: Query(input); break;
    case 5: (void)Jwt().Verify(input, kNow); break;
    case 6: (void)ShareTokens(kSecret).Verify(input, kNow); break;
    case 7: (void)KeyStore::Parse("keys.json", input); break;
    case 8: {
      static const KeyStore keys = [] {
        auto k = KeyStore::Parse("keys.json", R"({"version":1,"keys":[]})").value();
        (void)k.Create(Role::kReader, "alice", "", kNow);
        return k;
      }();
      (void)keys.Verify(input);
      break;
    }
    case 9: EnqueueNames(input); break;
  }
  return 0;
}
