#include "projections/uuid.h"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <uuid/uuid.h>

#include <cstring>
#include <string>

namespace jobtrail {
namespace {

std::string Unparse(const uuid_t u) {
  char text[37];  // 36 characters and the NUL uuid_unparse writes
  uuid_unparse_lower(u, text);
  return std::string(text, 36);
}

// 16 random bytes from a per-thread block of OpenSSL output: a RAND_bytes
// call per id set up the DRBG each time (1.4% of the server's CPU). The
// bytes are no less random for being drawn 4 KiB at a time. (The server
// never forks without exec, so no block is ever shared with a child.)
bool NextRandom16(unsigned char* out) {
  constexpr size_t kBlock = 4096;
  thread_local unsigned char block[kBlock];
  thread_local size_t used = kBlock;
  if (used == kBlock) {
    if (RAND_bytes(block, int(kBlock)) != 1) return false;
    used = 0;
  }
  std::memcpy(out, block + used, 16);
  OPENSSL_cleanse(block + used, 16);  // handed out once
  used += 16;
  return true;
}

}  // namespace

// Random (version 4) ids from OpenSSL's per-thread generator, seeded from
// the kernel: libuuid's uuid_generate_random makes one getrandom(2) call
// per id, and a worker's round trip draws two ids (request and event),
// 3.4% of the server's CPU in the lifecycle benchmark. libuuid still
// formats them, and stands in if OpenSSL cannot produce bytes.
std::string RandomUuid() {
  uuid_t u;
  if (NextRandom16(u)) {
    u[6] = static_cast<unsigned char>((u[6] & 0x0f) | (4 << 4));
    u[8] = static_cast<unsigned char>((u[8] & 0x3f) | 0x80);
  } else {
    uuid_generate_random(u);  // libuuid: getrandom(2), version 4
  }
  return Unparse(u);
}

// Not libuuid's uuid_generate_sha1 (RFC 4122 v5): job ids derived from
// idempotency keys are stored, and a repeat of a key after an upgrade must
// map to the same job, so the derivation stays SHA-256 of "space\nname",
// marked as version 5 / RFC variant.
std::string NameUuid(std::string_view name_space, std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, name_space.data(), name_space.size());
  EVP_DigestUpdate(ctx, "\n", 1);
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  uuid_t u;
  for (int i = 0; i < 16; ++i) u[i] = digest[i];
  u[6] = static_cast<unsigned char>((u[6] & 0x0f) | (5 << 4));
  u[8] = static_cast<unsigned char>((u[8] & 0x3f) | 0x80);
  return Unparse(u);
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  const std::string copy(text);  // uuid_parse wants a NUL-terminated string
  uuid_t unused;
  return uuid_parse(copy.c_str(), unused) == 0;
}

}  // namespace jobtrail
