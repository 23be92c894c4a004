#include "ghostwatch/policy/arm.h"

#include <openssl/evp.h>

#include <cmath>
#include <memory>
#include <stdexcept>

namespace gw {
namespace {

// SHA-256 through a digest fetched once and a context kept per thread:
// OpenSSL 3's one-shot SHA256() fetches the algorithm from its provider on
// every call, which cost about three quarters of each bucket (a replay
// computes one per freelancer).
class Sha256 {
 public:
  Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
    if (!md_ || !ctx_) throw std::runtime_error("OpenSSL: SHA-256 is not available");
  }

  // The digest of `a` followed by `b`, `c` and `d`.
  void digest(std::string_view a, std::string_view b, std::string_view c, unsigned char out[32]) {
    unsigned int size = 0;
    if (EVP_DigestInit_ex2(ctx_.get(), md_.get(), nullptr) != 1 || !update(a) || !update(b) || !update(c) ||
        EVP_DigestFinal_ex(ctx_.get(), out, &size) != 1 || size != 32) {
      throw std::runtime_error("OpenSSL: SHA-256 failed");
    }
  }

 private:
  bool update(std::string_view s) { return EVP_DigestUpdate(ctx_.get(), s.data(), s.size()) == 1; }

  struct FreeMd {
    void operator()(EVP_MD* md) const { EVP_MD_free(md); }
  };
  struct FreeCtx {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD, FreeMd> md_;
  std::unique_ptr<EVP_MD_CTX, FreeCtx> ctx_;
};

}  // namespace

std::uint32_t arm_bucket(std::string_view salt, std::string_view freelancer_id) {
  thread_local Sha256 sha256;
  unsigned char digest[32];
  sha256.digest(salt, ":", freelancer_id, digest);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | digest[i];
  return static_cast<std::uint32_t>(v % 10000);
}

std::uint32_t holdout_threshold(double holdout_percent) {
  return static_cast<std::uint32_t>(std::floor(holdout_percent * 100 + 0.5));
}

}  // namespace gw
