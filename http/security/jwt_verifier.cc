#include "http/security/jwt_verifier.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>

#include <cmath>

#include "http/security/crypto.h"

namespace jobtrail::http {
namespace {

constexpr size_t kMaxTokenBytes = 8192;

Error Invalid() {
  return MakeError(Code::kUnauthenticated, "INVALID_CREDENTIALS",
                   "the credentials are not valid");
}

Result<Principal> Reject(std::string* why, const char* reason) {
  if (why != nullptr) *why = reason;
  return Invalid();
}

// A NumericDate (seconds, possibly fractional) as milliseconds.
bool NumericDate(const rapidjson::Value& v, Millis& out) {
  if (!v.IsNumber()) return false;
  const double s = v.GetDouble();
  if (!std::isfinite(s) || s < 0 || s > 1e13) return false;
  out = Millis(s * 1000.0);
  return true;
}

}  // namespace

struct JwtVerifier::Pkey {
  EVP_PKEY* key = nullptr;
  ~Pkey() { EVP_PKEY_free(key); }
};

JwtVerifier::JwtVerifier(JwtOptions options) : options_(std::move(options)) {}
JwtVerifier::~JwtVerifier() = default;

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(JwtOptions options) {
  if (options.hs256_secret.empty() && options.rs256_public_pem.empty()) {
    return InvalidArgument("JWT verification needs an HS256 secret or an RS256 public key");
  }
  if (!options.hs256_secret.empty() && options.hs256_secret.size() < 32) {
    return InvalidArgument("the HS256 secret must be at least 32 bytes");
  }
  std::unique_ptr<JwtVerifier> v(new JwtVerifier(std::move(options)));
  if (!v->options_.rs256_public_pem.empty()) {
    const std::string& pem = v->options_.rs256_public_pem;
    BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
    if (bio == nullptr) return Internal("out of memory");
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
      EVP_PKEY_free(key);
      return InvalidArgument("the RS256 public key is not an RSA public key in PEM");
    }
    v->rsa_ = std::make_unique<Pkey>();
    v->rsa_->key = key;
  }
  return v;
}

bool JwtVerifier::LooksLikeJwt(std::string_view token) {
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return false;
  const size_t second = token.find('.', first + 1);
  return second != std::string_view::npos && token.find('.', second + 1) == std::string_view::npos;
}

bool JwtVerifier::VerifyRs256(std::string_view signed_part, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, rsa_->key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Result<Principal> JwtVerifier::Verify(std::string_view token, Millis now,
                                      std::string* why) const {
  if (token.size() > kMaxTokenBytes) return Reject(why, "token too long");
  if (!LooksLikeJwt(token)) return Reject(why, "not three parts");
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  auto header_json = Base64UrlDecode(token.substr(0, first));
  auto claims_json = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  auto signature = Base64UrlDecode(token.substr(second + 1));
  if (!header_json || !claims_json || !signature) return Reject(why, "bad base64url");

  rapidjson::Document header;
  header.Parse(header_json->data(), header_json->size());
  if (header.HasParseError() || !header.IsObject()) return Reject(why, "bad header");
  auto alg = header.FindMember("alg");
  if (alg == header.MemberEnd() || !alg->value.IsString()) return Reject(why, "no alg");
  const std::string_view alg_name(alg->value.GetString(), alg->value.GetStringLength());
  const std::string_view signed_part = token.substr(0, second);
  if (alg_name == "HS256" && !options_.hs256_secret.empty()) {
    if (!ConstantTimeEquals(HmacSha256(options_.hs256_secret, signed_part), *signature)) {
      return Reject(why, "bad signature");
    }
  } else if (alg_name == "RS256" && rsa_) {
    if (!VerifyRs256(signed_part, *signature)) return Reject(why, "bad signature");
  } else {
    return Reject(why, "algorithm not accepted");
  }

  rapidjson::Document claims;
  claims.Parse(claims_json->data(), claims_json->size());
  if (claims.HasParseError() || !claims.IsObject()) return Reject(why, "bad claims");
  Millis exp = 0;
  auto exp_it = claims.FindMember("exp");
  if (exp_it == claims.MemberEnd() || !NumericDate(exp_it->value, exp)) {
    return Reject(why, "no exp");
  }
  if (now >= exp + options_.leeway_ms) return Reject(why, "expired");
  auto nbf_it = claims.FindMember("nbf");
  if (nbf_it != claims.MemberEnd()) {
    Millis nbf = 0;
    if (!NumericDate(nbf_it->value, nbf)) return Reject(why, "bad nbf");
    if (now + options_.leeway_ms < nbf) return Reject(why, "not yet valid");
  }
  if (!options_.issuer.empty()) {
    auto iss = claims.FindMember("iss");
    if (iss == claims.MemberEnd() || !iss->value.IsString() ||
        std::string_view(iss->value.GetString(), iss->value.GetStringLength()) !=
            options_.issuer) {
      return Reject(why, "wrong issuer");
    }
  }
  if (!options_.audience.empty()) {
    auto aud = claims.FindMember("aud");
    bool found = false;
    if (aud != claims.MemberEnd()) {
      auto matches = [&](const rapidjson::Value& v) {
        return v.IsString() && std::string_view(v.GetString(), v.GetStringLength()) ==
                                   options_.audience;
      };
      if (aud->value.IsArray()) {
        for (const auto& a : aud->value.GetArray()) found = found || matches(a);
      } else {
        found = matches(aud->value);
      }
    }
    if (!found) return Reject(why, "wrong audience");
  }
  auto sub = claims.FindMember("sub");
  if (sub == claims.MemberEnd() || !sub->value.IsString() || sub->value.GetStringLength() == 0 ||
      sub->value.GetStringLength() > 256) {
    return Reject(why, "no subject");
  }
  Principal p;
  p.kind = CredentialKind::kJwt;
  p.subject.assign(sub->value.GetString(), sub->value.GetStringLength());
  p.role = Role::kReader;
  auto role = claims.FindMember(options_.role_claim.c_str());
  if (role != claims.MemberEnd()) {
    if (!role->value.IsString() ||
        !ParseRole(std::string_view(role->value.GetString(), role->value.GetStringLength()),
                   p.role)) {
      return Reject(why, "unknown role");
    }
  }
  return p;
}

}  // namespace jobtrail::http
