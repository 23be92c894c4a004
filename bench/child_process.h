// Child processes for the benchmarks: run a command with its standard error
// in a file, wait for it with the CPU time it used, and wait for a line to
// appear in that file (e.g. `ghostwatch serve`'s "listening" log line).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace gw::bench {

struct ChildExit {
  int status = -1;  // exit status; -1 when killed by a signal or never started
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
};

class ChildProcess {
 public:
  // Starts argv[0] with `argv`; standard output goes to /dev/null and
  // standard error to `stderr_path` (truncated).
  ChildProcess(std::vector<std::string> argv, std::string stderr_path) : stderr_path_(std::move(stderr_path)) {
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() {
    signal(SIGKILL);
    wait();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal(int sig) {
    if (running()) ::kill(pid_, sig);
  }

  // Blocks until the child exits (at once if it has already been reaped).
  const ChildExit& wait() {
    reap(0);
    return exit_;
  }

  // Polls the stderr file until a line containing `needle` appears; returns
  // that line, or nothing if the child exits first or `timeout` passes.
  std::optional<std::string> wait_for_line(const std::string& needle, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(stderr_path_);
      for (std::string line; std::getline(in, line);) {
        if (line.find(needle) != std::string::npos) return line;
      }
      if (!running() || reap(WNOHANG)) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return std::nullopt;
  }

  std::string stderr_text() const {
    std::ifstream in(stderr_path_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  bool running() const { return pid_ > 0 && !reaped_; }

  // True once the child has been reaped.
  bool reap(int flags) {
    if (!running()) return true;
    int status = 0;
    struct rusage usage {};
    if (::wait4(pid_, &status, flags, &usage) != pid_) return false;
    reaped_ = true;
    exit_.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    exit_.cpu_user_seconds = static_cast<double>(usage.ru_utime.tv_sec) + usage.ru_utime.tv_usec / 1e6;
    exit_.cpu_system_seconds = static_cast<double>(usage.ru_stime.tv_sec) + usage.ru_stime.tv_usec / 1e6;
    return true;
  }

  std::string stderr_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  ChildExit exit_;
};

}  // namespace gw::bench
