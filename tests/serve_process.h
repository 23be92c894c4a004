// Test-only: runs the real `ghostwatch serve` binary as a child process on
// a free loopback port, for API and crash-recovery tests over real HTTP.
// Reads the port from the "listening" log line on the child's stderr.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

extern char** environ;

namespace gw::test {

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ghostwatch-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `ghostwatch <args>` run through the shell, its standard output and error
// together, and its exit status (-1 when it did not exit normally).
struct CommandOutput {
  int status = -1;
  std::string out;
};

inline CommandOutput run_ghostwatch(const std::string& args) {
  CommandOutput r;
  FILE* p = ::popen((std::string(GHOSTWATCH_BINARY) + " " + args + " 2>&1").c_str(), "r");
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class ServeProcess {
 public:
  // Starts `ghostwatch serve --listen 127.0.0.1:0 ARGS...` with its stderr
  // in `log_path`; waits until it listens (or exits). `env` adds NAME=VALUE
  // entries to the environment.
  ServeProcess(const std::vector<std::string>& args, std::string log_path, const std::vector<std::string>& env = {})
      : log_path_(std::move(log_path)), log_start_(read_file(log_path_).size()) {
    std::vector<std::string> argv_s = {GHOSTWATCH_BINARY, "serve", "--listen", "127.0.0.1:0"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    wait_for_port();
  }
  ~ServeProcess() {
    if (running()) kill(SIGKILL);
    reap();
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  bool running() const { return pid_ > 0 && !exited_; }
  // What this process has written to the log (earlier runs may share it).
  std::string log() const { return read_file(log_path_).substr(log_start_); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_tcp_nodelay(true);
    c.set_read_timeout(60, 0);
    return c;
  }

  void kill(int sig) {
    if (pid_ > 0 && !exited_) ::kill(pid_, sig);
  }
  // Waits for the process to exit; returns its exit status (-1 if killed by
  // a signal or never started).
  int wait() {
    reap();
    return exit_status_;
  }

 private:
  void reap() {
    if (pid_ <= 0 || exited_) return;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void wait_for_port() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      const std::string text = log();
      const std::size_t at = text.find("listening");
      const std::size_t colon = at == std::string::npos ? at : text.find("127.0.0.1:", at);
      if (colon != std::string::npos) {
        port_ = std::atoi(text.c_str() + colon + 10);
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::string log_path_;
  std::size_t log_start_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int exit_status_ = -1;
};

}  // namespace gw::test
