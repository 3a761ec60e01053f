#pragma once
// Makes JWTs for tests: HS256 with a secret, RS256 with a freshly generated
// RSA key (OpenSSL 3).
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <string>

#include "http/security/crypto.h"

namespace jobtrail::testing {

inline std::string JwtPart(const std::string& json) { return http::Base64UrlEncode(json); }

inline std::string MakeHs256(const std::string& claims_json, const std::string& secret,
                             const std::string& header_json = R"({"alg":"HS256","typ":"JWT"})") {
  const std::string signed_part = JwtPart(header_json) + "." + JwtPart(claims_json);
  return signed_part + "." + http::Base64UrlEncode(http::HmacSha256(secret, signed_part));
}

class RsaKey {
 public:
  RsaKey() { key_ = EVP_RSA_gen(2048); }
  ~RsaKey() { EVP_PKEY_free(key_); }
  RsaKey(const RsaKey&) = delete;
  RsaKey& operator=(const RsaKey&) = delete;

  std::string PublicPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, size_t(n));
    BIO_free(bio);
    return pem;
  }

  std::string Sign(const std::string& claims_json,
                   const std::string& header_json = R"({"alg":"RS256","typ":"JWT"})") const {
    const std::string signed_part = JwtPart(header_json) + "." + JwtPart(claims_json);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(ctx, nullptr, &len,
                   reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return signed_part + "." + http::Base64UrlEncode(sig);
  }

 private:
  EVP_PKEY* key_ = nullptr;
};

}  // namespace jobtrail::testing
