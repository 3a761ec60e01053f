#include "eventstore/hash_chain.h"

#include <openssl/evp.h>

#include <memory>

#include "eventstore/key_format.h"

namespace jobtrail::eventstore {

std::string GenesisHash() { return std::string(key_format::kHashSize, '\0'); }

std::string ChainHash(const std::string& prev_hash, const StoredEvent& e) {
  std::string header;
  key_format::PutU64(header, e.position);
  key_format::PutU32(header, uint32_t(e.stream.size()));
  std::string middle;
  key_format::PutU64(middle, e.version);
  key_format::PutU32(middle, uint32_t(e.event_id.size()));

  // One digest context per thread, reused: EVP_MD_CTX_new allocates.
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx.get(), prev_hash.data(), prev_hash.size());
  EVP_DigestUpdate(ctx.get(), header.data(), header.size());
  EVP_DigestUpdate(ctx.get(), e.stream.data(), e.stream.size());
  EVP_DigestUpdate(ctx.get(), middle.data(), middle.size());
  EVP_DigestUpdate(ctx.get(), e.event_id.data(), e.event_id.size());
  EVP_DigestUpdate(ctx.get(), e.data.data(), e.data.size());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &digest_len);
  return std::string(reinterpret_cast<char*>(digest), digest_len);
}

}  // namespace jobtrail::eventstore
