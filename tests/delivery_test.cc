// The dispatcher's pure parts: per-domain pacing, retry delays, locales.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "ghostwatch/delivery/mail_dispatcher.h"
#include "ghostwatch/delivery/rate_limiter.h"

namespace gw {
namespace {

TEST(DomainRateLimiter, AMinutesAllowanceThenOneEveryInterval) {
  DomainRateLimiter limiter(6);  // one every 10 s once the first minute's six are used
  const Instant t0 = 1'000'000;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(limiter.acquire("gmail.com", t0), t0) << i;
  EXPECT_EQ(limiter.acquire("gmail.com", t0), t0 + 10 * kSecond) << "the seventh waits for a refill";
  EXPECT_EQ(limiter.acquire("gmail.com", t0 + 5 * kSecond), t0 + 10 * kSecond) << "and is not taken meanwhile";
  EXPECT_EQ(limiter.acquire("gmail.com", t0 + 10 * kSecond), t0 + 10 * kSecond);
  EXPECT_EQ(limiter.acquire("yahoo.com", t0), t0) << "domains are paced apart";
  EXPECT_EQ(limiter.acquire("gmail.com", t0 + 10 * kMinute), t0 + 10 * kMinute);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.acquire("gmail.com", t0 + 10 * kMinute), t0 + 10 * kMinute) << i;
  EXPECT_GT(limiter.acquire("gmail.com", t0 + 10 * kMinute), t0 + 10 * kMinute) << "never more than a minute's worth";
}

TEST(RetryDelay, DoublesUpToTheMaximumWithJitterInTheUpperHalf) {
  mail::DispatchSettings s;
  s.retry_initial = 10 * kSecond;
  s.retry_max = 100 * kSecond;
  std::mt19937_64 rng(7);
  const Duration full[] = {10 * kSecond, 20 * kSecond, 40 * kSecond, 80 * kSecond, 100 * kSecond, 100 * kSecond};
  for (std::uint32_t attempt = 1; attempt <= 6; ++attempt) {
    for (int i = 0; i < 50; ++i) {
      const Duration d = retry_delay(s, attempt, rng);
      EXPECT_LE(d, full[attempt - 1]) << attempt;
      EXPECT_GE(d, full[attempt - 1] / 2) << attempt;
    }
  }
  EXPECT_EQ(retry_delay(s, 1000000, rng) <= s.retry_max, true) << "no overflow on a long outage";
  std::set<Duration> seen;
  for (int i = 0; i < 20; ++i) seen.insert(retry_delay(s, 3, rng));
  EXPECT_GT(seen.size(), 10u) << "jitter spreads retries out";
}

TEST(LocaleForCountry, MainLanguageOrEnglish) {
  EXPECT_EQ(locale_for_country("MX"), "es");
  EXPECT_EQ(locale_for_country("es"), "es") << "case does not matter";
  EXPECT_EQ(locale_for_country("BR"), "pt");
  EXPECT_EQ(locale_for_country("US"), "en");
  EXPECT_EQ(locale_for_country("IN"), "en");
  EXPECT_EQ(locale_for_country(""), "en");
  EXPECT_EQ(locale_for_country("ZZ"), "en");
}

}  // namespace
}  // namespace gw
