#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ghostwatch/mail/tokens.h"

namespace gw::mail {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

TEST(MailTokens, ReplyTokenRoundTrips) {
  const TokenSigner signer(kKey);
  const EpisodeRef episode{"c-1042", 3};
  const std::string token = signer.reply_token(episode);
  Result<EpisodeRef> back = signer.verify_reply_token(token);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_EQ(*back, episode);
  // Lower-case base32 and one dash only: a valid local part, whatever the contract id.
  EXPECT_EQ(token.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567-"), std::string::npos) << token;
  EXPECT_EQ(signer.reply_token(episode), token) << "tokens are deterministic";
}

TEST(MailTokens, ContractIdsWithAnyBytesRoundTrip) {
  const TokenSigner signer(kKey);
  for (const std::string& contract :
       std::vector<std::string>{"c:1:2", "José/Müller", std::string("a\r\nb\0c", 6), "x-y-z", "Ünï"}) {
    Result<EpisodeRef> back = signer.verify_reply_token(signer.reply_token({contract, 12}));
    ASSERT_TRUE(back.is_ok()) << back.message();
    EXPECT_EQ(back->contract, contract);
    EXPECT_EQ(back->episode, 12);
  }
}

TEST(MailTokens, VerificationFoldsCaseBecauseMailSystemsMay) {
  const TokenSigner signer(kKey);
  std::string token = signer.reply_token({"c1", 1});
  for (char& c : token) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(signer.verify_reply_token(token).is_ok());
}

TEST(MailTokens, EveryChangedCharacterIsRefused) {
  const TokenSigner signer(kKey);
  const std::string token = signer.reply_token({"c-1042", 3});
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (const char c : std::string("a7-z")) {
      if (token[i] == c) continue;
      std::string forged = token;
      forged[i] = c;
      EXPECT_FALSE(signer.verify_reply_token(forged).is_ok()) << forged;
    }
  }
  EXPECT_FALSE(signer.verify_reply_token(token.substr(0, token.size() - 1)).is_ok());
  EXPECT_FALSE(signer.verify_reply_token(token + "a").is_ok());
  EXPECT_FALSE(signer.verify_reply_token("").is_ok());
  EXPECT_FALSE(signer.verify_reply_token("-").is_ok());
}

TEST(MailTokens, AnotherKeyOrAnotherEpisodeDoesNotVerify) {
  const TokenSigner signer(kKey);
  const TokenSigner other(kKey + "!");
  const std::string token = signer.reply_token({"c-1042", 3});
  EXPECT_FALSE(other.verify_reply_token(token).is_ok());
  // Splicing the payload of one token onto the signature of another fails.
  const std::string token2 = signer.reply_token({"c-1042", 4});
  const std::string spliced = token2.substr(0, token2.find('-')) + token.substr(token.find('-'));
  EXPECT_FALSE(signer.verify_reply_token(spliced).is_ok());
}

TEST(MailTokens, OptOutTokenRoundTripsAndIsNotAReplyToken) {
  const TokenSigner signer(kKey);
  const std::string token = signer.opt_out_token("u-17");
  Result<std::string> user = signer.verify_opt_out_token(token);
  ASSERT_TRUE(user.is_ok()) << user.message();
  EXPECT_EQ(*user, "u-17");
  // The purposes are signed apart: neither token works as the other.
  EXPECT_FALSE(signer.verify_reply_token(token).is_ok());
  EXPECT_FALSE(signer.verify_opt_out_token(signer.reply_token({"u-17", 1})).is_ok());
  // A payload that reads as a reply payload, signed for opt-out, is still refused as a reply.
  EXPECT_FALSE(signer.verify_reply_token(signer.opt_out_token("1:c1")).is_ok());
}

TEST(MailTokens, RefusalsSayWhy) {
  const TokenSigner signer(kKey);
  EXPECT_EQ(signer.verify_reply_token("abc").message(), "reply token refused: token has no signature");
  EXPECT_EQ(signer.verify_opt_out_token("ab1-xyz").message(), "opt-out token refused: token payload is not base32");
  EXPECT_EQ(signer.verify_opt_out_token("mfrgg-aaaaaaaaaaaaaaaa").message(),
            "opt-out token refused: token signature does not match");
}

}  // namespace
}  // namespace gw::mail
