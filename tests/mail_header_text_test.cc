#include <gtest/gtest.h>

#include <string>

#include "ghostwatch/mail/header_text.h"

namespace gw::mail {
namespace {

TEST(MailHeaderText, ControlCharactersBecomeOneSpace) {
  EXPECT_EQ(neutralise_header_text("Eve\r\nBcc: x@y"), "Eve Bcc: x@y");
  EXPECT_EQ(neutralise_header_text("  a\t\tb \x01\x7f c  "), "a b c");
  EXPECT_EQ(neutralise_header_text("a\xC2\x85"
                                   "b\xE2\x80\xA8"
                                   "c\xE2\x80\xA9"
                                   "d"),
            "a b c d")
      << "NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR break lines in some readers";
  EXPECT_EQ(neutralise_header_text(std::string("a\0b", 3)), "a b");
  EXPECT_EQ(neutralise_header_text("José Müller"), "José Müller");
  EXPECT_EQ(neutralise_header_text("\xC2\xA0non-breaking\xC2\xA0space"), "\xC2\xA0non-breaking\xC2\xA0space");
  EXPECT_EQ(neutralise_header_text("bad \xFF utf8"), "bad \xEF\xBF\xBD utf8");
  EXPECT_EQ(neutralise_header_text("\r\n"), "");
}

TEST(MailHeaderText, OnlyPlainAddressesAreSafe) {
  EXPECT_TRUE(is_safe_address("jose.muller+x@mail.example.com"));
  EXPECT_TRUE(is_safe_address("reply+abc-def@reply.example"));
  for (const char* bad : {"", "@x", "x@", "no-at", "a@b@c", "a b@c", "a@b\r\nBcc: c@d", "a@b>", "<a@b", "a,b@c",
                          "a;b@c", "a:b@c", "\"a\"@b", "josé@example.com", "a@b\x7f"}) {
    EXPECT_FALSE(is_safe_address(bad)) << bad;
  }
  EXPECT_EQ(address_domain("a@mail.example"), "mail.example");
}

TEST(MailHeaderText, HttpsUrls) {
  EXPECT_TRUE(is_safe_https_url("https://marketplace.example"));
  EXPECT_TRUE(is_safe_https_url("https://marketplace.example:8443/a/b?c=d&e=%20f#g"));
  for (const char* bad :
       {"http://x.example", "https://", "https:///path", "https://x.example/a b", "https://x.example/>, <https://evil",
        "https://x.example/\r\n", "https://x.example/\"", "https://x.example/é"}) {
    EXPECT_FALSE(is_safe_https_url(bad)) << bad;
  }
}

TEST(MailHeaderText, PercentEncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(percent_encode("c-1042_a.b~"), "c-1042_a.b~");
  EXPECT_EQ(percent_encode("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
  EXPECT_EQ(percent_encode(std::string("\0\r\n", 3)), "%00%0D%0A");
}

}  // namespace
}  // namespace gw::mail
