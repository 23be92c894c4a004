#include "ghostwatch/mail/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cassert>
#include <charconv>
#include <optional>

namespace gw::mail {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t kSignatureBytes = 10;  // 80 bits: forging by guessing takes ~2^79 tries
constexpr std::string_view kReplyPurpose = "ghostwatch reply v1";
constexpr std::string_view kOptOutPurpose = "ghostwatch opt-out v1";

std::string base32(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

// Decodes lower-case base32; nullopt for other characters and for text that
// base32() would never produce (a dangling character or non-zero pad bits),
// so every token has exactly one spelling.
std::optional<std::string> unbase32(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const std::size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xFF));
      bits -= 8;
    }
  }
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

TokenSigner::TokenSigner(std::string secret_key) : key_(std::move(secret_key)) { assert(!key_.empty()); }

std::string TokenSigner::sign(std::string_view purpose, std::string_view payload) const {
  std::string message(purpose);
  message.push_back('\0');
  message.append(payload);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), digest, &length);
  return base32(payload) + "-" + base32(std::string_view(reinterpret_cast<const char*>(digest), kSignatureBytes));
}

Result<std::string> TokenSigner::verify(std::string_view purpose, std::string_view token) const {
  const std::string folded = lower_ascii(token);
  const std::size_t dash = folded.rfind('-');
  if (dash == std::string::npos) return Status::error("token has no signature");
  const std::optional<std::string> payload = unbase32(std::string_view(folded).substr(0, dash));
  if (!payload || payload->empty()) return Status::error("token payload is not base32");
  const std::string expected = sign(purpose, *payload);
  if (expected.size() != folded.size() || CRYPTO_memcmp(expected.data(), folded.data(), folded.size()) != 0) {
    return Status::error("token signature does not match");
  }
  return *payload;
}

std::string TokenSigner::reply_token(const EpisodeRef& episode) const {
  assert(episode.episode >= 1);
  return sign(kReplyPurpose, std::to_string(episode.episode) + ":" + episode.contract);
}

Result<EpisodeRef> TokenSigner::verify_reply_token(std::string_view token) const {
  Result<std::string> payload = verify(kReplyPurpose, token);
  if (!payload) return Status::error("reply token refused: " + payload.message());
  // The signature matched, so the payload is one reply_token wrote.
  const std::string& p = *payload;
  const std::size_t colon = p.find(':');
  if (colon == std::string::npos) return Status::error("reply token refused: malformed payload");
  EpisodeRef ref;
  const auto [end, error] = std::from_chars(p.data(), p.data() + colon, ref.episode);
  if (error != std::errc() || end != p.data() + colon || ref.episode < 1) {
    return Status::error("reply token refused: malformed payload");
  }
  ref.contract = p.substr(colon + 1);
  return ref;
}

std::string TokenSigner::opt_out_token(std::string_view user) const {
  assert(!user.empty());
  return sign(kOptOutPurpose, user);
}

Result<std::string> TokenSigner::verify_opt_out_token(std::string_view token) const {
  Result<std::string> user = verify(kOptOutPurpose, token);
  if (!user) return Status::error("opt-out token refused: " + user.message());
  return user;
}

}  // namespace gw::mail
