// Test-only: a real SMTP server for the mail tests, tests/smtp_sink.py on
// aiosmtpd (Debian's python3-aiosmtpd) on a loopback port, optionally with
// TLS and AUTH; a throwaway self-signed certificate for it; and loopback
// socket helpers.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "serve_support.h"

extern char** environ;

namespace gw::test {

namespace fs = std::filesystem;

inline constexpr const char* kPython = "/usr/bin/python3";

inline bool have_aiosmtpd() { return test::run_command(std::string(kPython) + " -c 'import aiosmtpd' >/dev/null 2>&1") == 0; }

// A loopback socket bound to a free port and listening, never accepting:
// connections complete but no greeting ever comes. Closing it frees the port.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

inline int free_port() { return SilentListener().port(); }

inline bool can_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// How SmtpSink's server talks: plain by default; TLS with the certificate
// and key files given (STARTTLS, required before mail; or implicit TLS,
// smtps://); AUTH required when `auth` ("user:password") is set.
struct SinkOptions {
  int port = 0;  // 0: a free one
  std::string starttls_cert, starttls_key;
  std::string smtps_cert, smtps_key;
  std::string auth;
};

// tests/smtp_sink.py (aiosmtpd) delivering into a fresh Maildir. The
// destructor stops it.
class SmtpSink {
 public:
  explicit SmtpSink(int port = 0) : SmtpSink(SinkOptions{port, {}, {}, {}, {}, {}}) {}
  explicit SmtpSink(const SinkOptions& options)
      : port_(options.port == 0 ? free_port() : options.port), smtps_(!options.smtps_cert.empty()) {
    std::vector<std::string> args = {kPython, std::string(GHOSTWATCH_SOURCE_DIR) + "/tests/smtp_sink.py", "--listen",
                                     "127.0.0.1:" + std::to_string(port_), "--maildir", maildir()};
    if (!options.starttls_cert.empty()) args.insert(args.end(), {"--starttls", options.starttls_cert, options.starttls_key});
    if (smtps_) args.insert(args.end(), {"--smtps", options.smtps_cert, options.smtps_key});
    if (!options.auth.empty()) args.insert(args.end(), {"--auth", options.auth});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, dir_.file("sink.log").c_str(), O_WRONLY | O_CREAT, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawn(&pid_, kPython, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (pid_ > 0 && !can_connect(port_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~SmtpSink() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return pid_ > 0 && can_connect(port_); }
  std::string url() const { return (smtps_ ? "smtps://127.0.0.1:" : "smtp://127.0.0.1:") + std::to_string(port_); }
  std::string maildir() const { return dir_.file("maildir"); }
  std::string log() const { return read_file(dir_.file("sink.log")); }

  // The delivered messages, in no particular order.
  std::vector<std::string> delivered() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(maildir() + "/new", ec)) {
      out.push_back(read_file(entry.path().string()));
    }
    return out;
  }
  std::string envelopes() const { return read_file(maildir() + "/envelopes.txt"); }

 private:
  TempDir dir_;
  int port_;
  bool smtps_;
  pid_t pid_ = -1;
};

// A throwaway self-signed certificate for 127.0.0.1 (openssl's CLI), valid
// for a day, in `dir`: what a test gives SinkOptions and SmtpSettings::ca_file.
struct TestCertificate {
  std::string cert, key;
  bool ok = false;
};

inline TestCertificate make_test_certificate(const TempDir& dir) {
  TestCertificate c{dir.file("cert.pem"), dir.file("key.pem")};
  c.ok = run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                     "-addext subjectAltName=IP:127.0.0.1 -keyout " +
                     c.key + " -out " + c.cert + " >/dev/null 2>&1") == 0;
  return c;
}

}  // namespace gw::test
