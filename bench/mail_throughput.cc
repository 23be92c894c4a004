// Nudge e-mail throughput (issue #4): how fast MailComposer renders and
// MIME-builds reminders on one core (target: at least 20,000 e-mails/s), and
// how fast SmtpTransport delivers them to a local SMTP server, with the
// connection reused (what the dispatcher does) and, as the baseline measured
// in the same run, with a new connection per e-mail.
//
//   build/bench/mail_throughput [--compose 50000] [--deliver 2000] [--repeat 3]
//
// The SMTP server is aiosmtpd (Debian's python3-aiosmtpd) with its
// discarding `Sink` handler on a free loopback port, so the figure is the
// transport's and the protocol's, not a mailbox's disk. The e-mails are the
// shipped Spanish reminder to a freelancer with a non-ASCII name, a new
// episode each (new tokens and Message-IDs). Medians of --repeat runs.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.h"
#include "child_process.h"
#include "ghostwatch/mail/composer.h"
#include "ghostwatch/mail/smtp_transport.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kMailToml = R"([mail]
from = "Marketplace Reminders <reminders@marketplace.example>"
inbound_domain = "reply.marketplace.example"
public_url = "https://marketplace.example/"
templates = "templates"
secret_env = "GHOSTWATCH_BENCH_MAIL_KEY"

[smtp]
url = "smtp://127.0.0.1:2525"
)";

struct Args {
  int compose = 50'000;
  int deliver = 2'000;
  int repeat = 3;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--compose") {
      a.compose = value;
    } else if (flag == "--deliver") {
      a.deliver = value;
    } else if (flag == "--repeat") {
      a.repeat = value;
    } else {
      std::fprintf(stderr, "mail_throughput: unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return a;
}

gw::mail::MailComposer make_composer() {
  const auto env = [](const std::string&) -> std::optional<std::string> {
    return std::string("bench-only-key-0123456789abcdef0123456789");
  };
  auto config = gw::mail::parse_mail_config(kMailToml, "bench.toml", GHOSTWATCH_SOURCE_DIR, env);
  if (!config.is_ok()) {
    std::fprintf(stderr, "mail_throughput: %s\n", config.message().c_str());
    std::exit(1);
  }
  auto templates = gw::mail::TemplateSet::load(config->template_dir);
  if (!templates.is_ok()) {
    std::fprintf(stderr, "mail_throughput: %s\n", templates.message().c_str());
    std::exit(1);
  }
  return gw::mail::MailComposer(std::move(*config), std::move(*templates));
}

gw::mail::MailRequest reminder(std::int64_t episode) {
  gw::mail::MailRequest r;
  r.campaign = "anti-ghosting";
  r.arm = "treatment";
  r.episode = {"c-1042", episode};
  r.step = 2;
  r.thread_steps = {1};
  r.template_name = "reminder-2";
  r.locale = "es";
  r.recipient = {"u-17", "José Müller", "jose@freelancer.example"};
  r.freelancer_name = "José Müller";
  r.client_name = "Ana O'Brien & Co";
  r.waiting_since = 1564660800000;
  r.at = r.waiting_since + 72 * gw::kHour;
  return r;
}

std::vector<gw::mail::OutgoingMail> compose_all(const gw::mail::MailComposer& composer, int n, double* seconds) {
  std::vector<gw::mail::OutgoingMail> out;
  out.reserve(static_cast<std::size_t>(n));
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto mail = composer.compose(reminder(i + 1));
    if (!mail.is_ok()) {
      std::fprintf(stderr, "mail_throughput: compose: %s\n", mail.message().c_str());
      std::exit(1);
    }
    out.push_back(std::move(*mail));
  }
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool can_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Sends every mail; `reuse` keeps one transport (one connection) for all.
double deliver_all(const std::string& url, const std::vector<gw::mail::OutgoingMail>& mails, int n, bool reuse) {
  gw::mail::SmtpSettings settings;
  settings.url = url;
  std::optional<gw::mail::SmtpTransport> transport;
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (!reuse || !transport) transport.emplace(settings);
    const auto& m = mails[static_cast<std::size_t>(i) % mails.size()];
    const gw::mail::SendResult r = transport->send(m.envelope_from, m.rcpt, m.bytes);
    if (r.outcome != gw::mail::SendOutcome::kSent) {
      std::fprintf(stderr, "mail_throughput: send %d: %s\n", i, r.reply.c_str());
      std::exit(1);
    }
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

using gw::bench::median;

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  const gw::mail::MailComposer composer = make_composer();

  const int port = free_port();
  gw::bench::ChildProcess sink({"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", fmt::format("127.0.0.1:{}", port),
                                "-c", "aiosmtpd.handlers.Sink"},
                               "/tmp/ghostwatch-mail-throughput-sink.log");
  for (int i = 0; i < 2000 && !can_connect(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!can_connect(port)) {
    std::fprintf(stderr, "mail_throughput: aiosmtpd did not start: %s\n", sink.stderr_text().c_str());
    return 1;
  }
  const std::string url = fmt::format("smtp://127.0.0.1:{}", port);

  std::vector<double> compose_rate, reuse_rate, fresh_rate;
  std::size_t bytes = 0;
  for (int run = 1; run <= args.repeat; ++run) {
    double seconds = 0;
    const auto mails = compose_all(composer, args.compose, &seconds);
    bytes = mails.front().bytes.size();
    compose_rate.push_back(args.compose / seconds);
    reuse_rate.push_back(args.deliver / deliver_all(url, mails, args.deliver, true));
    fresh_rate.push_back(args.deliver / deliver_all(url, mails, args.deliver, false));
    fmt::print(
        "run {}: compose {:.0f} e-mails/s; deliver {:.0f}/s reusing the connection, {:.0f}/s with a new one each\n",
        run, compose_rate.back(), reuse_rate.back(), fresh_rate.back());
  }
  fmt::print("median of {} runs ({} bytes per e-mail):\n", args.repeat, bytes);
  fmt::print("  compose (render + MIME): {:.0f} e-mails/s on one core (target >= 20000)\n", median(compose_rate));
  fmt::print("  deliver, one connection: {:.0f} e-mails/s\n", median(reuse_rate));
  fmt::print("  deliver, a connection each (baseline): {:.0f} e-mails/s; reuse is {:.2f}x\n", median(fresh_rate),
             median(reuse_rate) / median(fresh_rate));
  return 0;
}
