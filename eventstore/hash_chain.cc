#include "eventstore/hash_chain.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

#include "eventstore/key_format.h"

namespace jobtrail::eventstore {
namespace {

void PutU64(unsigned char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<unsigned char>(v & 0xff);
}
void PutU32(unsigned char* out, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) out[i] = static_cast<unsigned char>(v & 0xff);
}

}  // namespace

std::string GenesisHash() { return std::string(key_format::kHashSize, '\0'); }

void ChainHashInto(std::string_view prev_hash, uint64_t position, std::string_view stream,
                   uint64_t version, std::string_view event_id, std::string_view data,
                   char* out) {
  unsigned char header[12];
  PutU64(header, position);
  PutU32(header + 8, uint32_t(stream.size()));
  unsigned char middle[12];
  PutU64(middle, version);
  PutU32(middle + 8, uint32_t(event_id.size()));

  // One digest context per thread, reused: EVP_MD_CTX_new allocates. The
  // algorithm is fetched once: EVP_sha256() makes OpenSSL 3 look it up in
  // its providers on every init, which cost as much as hashing the event.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex2(ctx.get(), sha256, nullptr);
  EVP_DigestUpdate(ctx.get(), prev_hash.data(), prev_hash.size());
  EVP_DigestUpdate(ctx.get(), header, sizeof(header));
  EVP_DigestUpdate(ctx.get(), stream.data(), stream.size());
  EVP_DigestUpdate(ctx.get(), middle, sizeof(middle));
  EVP_DigestUpdate(ctx.get(), event_id.data(), event_id.size());
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &digest_len);
  std::memcpy(out, digest, key_format::kHashSize);
}

std::string ChainHash(const std::string& prev_hash, const StoredEvent& e) {
  std::string out(key_format::kHashSize, '\0');
  ChainHashInto(prev_hash, e.position, e.stream, e.version, e.event_id, e.data, out.data());
  return out;
}

}  // namespace jobtrail::eventstore
