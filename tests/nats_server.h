// Test-only: a real nats-server with JetStream for the event log's tests,
// on a free loopback port with its store in a temp directory, started on
// first use and stopped when the test process exits (CTest runs each test
// in its own process, so tests never share a stream). Without nats-server
// installed there is none: nats_url() returns nullopt and the caller skips,
// naming the package. Also reads a stream back through nats.c, as a
// consumer would.
#pragma once

#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "serve_process.h"

namespace gw::test {

// A free loopback TCP port (free when asked).
inline int free_nats_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool nats_installed() { return std::system("command -v nats-server >/dev/null 2>&1") == 0; }

// One nats-server process with JetStream, its store and log under `dir`;
// `extra` adds options (cluster routes). Stopped (SIGTERM) with the object.
class NatsProcess {
 public:
  // `log_name`: the log file's name in `dir` (default: the server's name).
  NatsProcess(const TempDir& dir, const std::string& name, int port, const std::vector<std::string>& extra = {},
              const std::string& log_name = "")
      : log_(dir.file((log_name.empty() ? name : log_name) + ".log")),
        url_("nats://127.0.0.1:" + std::to_string(port)) {
    std::vector<std::string> args = {"nats-server",        "-n",  name,  "-a",           "127.0.0.1", "-p",
                                     std::to_string(port), "-js", "-sd", dir.file(name), "-l",        log_};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "nats-server", nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~NatsProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  NatsProcess(const NatsProcess&) = delete;
  NatsProcess& operator=(const NatsProcess&) = delete;
  const std::string& url() const { return url_; }
  bool log_has(const std::string& text) const { return read_file(log_).find(text) != std::string::npos; }
  // Waits (up to 10 s) until the log contains `text`.
  bool wait_for_log(const std::string& text) const {
    for (int i = 0; i < 1000 && pid_ > 0; ++i) {
      if (log_has(text)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  std::string log_, url_;
  pid_t pid_ = -1;
};

class NatsServer {
 public:
  // nats://127.0.0.1:PORT of the process's server, or "" when nats-server
  // is not installed.
  static const std::string& url() {
    static NatsServer server;
    return server.url_;
  }

 private:
  NatsServer() {
    if (!nats_installed()) return;
    process_ = std::make_unique<NatsProcess>(dir_, "n1", free_nats_port());
    if (process_->wait_for_log("Server is ready")) url_ = process_->url();
  }

  TempDir dir_;
  std::unique_ptr<NatsProcess> process_;
  std::string url_;
};

// Three nats-servers forming a JetStream cluster on loopback
// (shared/notes/dependencies.md 4.3), for replicated streams.
class NatsCluster {
 public:
  NatsCluster() {
    if (!nats_installed()) return;
    std::vector<int> route_ports;
    std::string routes;
    for (int i = 0; i < 3; ++i) {
      client_ports_.push_back(free_nats_port());
      route_ports.push_back(free_nats_port());
      routes += (i == 0 ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(route_ports.back());
    }
    for (int i = 0; i < 3; ++i) {
      node_args_.push_back({"--cluster_name", "gwtest", "--cluster",
                            "nats://127.0.0.1:" + std::to_string(route_ports[i]), "--routes", routes});
      nodes_.push_back(start_node(i));
      url_ += (i == 0 ? "" : ",") + nodes_.back()->url();
    }
    for (const auto& n : nodes_) {
      if (!n->wait_for_log("Server is ready")) url_.clear();
    }
    // JetStream answers once the cluster has a metadata leader.
    for (int i = 0; i < 1000 && !url_.empty(); ++i) {
      for (const auto& n : nodes_) {
        if (n->log_has("new metadata leader")) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    url_.clear();
  }
  // The three client URLs, comma-separated; "" when the cluster did not form.
  const std::string& url() const { return url_; }

  // Stops node `i` (SIGTERM, waited for); restart() brings it back with its
  // storage, and it catches up from the others.
  void stop(int i) { nodes_[static_cast<std::size_t>(i)].reset(); }
  bool restart(int i) {
    nodes_[static_cast<std::size_t>(i)] = start_node(i);
    return nodes_[static_cast<std::size_t>(i)]->wait_for_log("Server is ready");
  }

 private:
  std::unique_ptr<NatsProcess> start_node(int i) {
    // A log of its own per start, so "Server is ready" is this start's.
    const std::string name = "n" + std::to_string(i + 1);
    return std::make_unique<NatsProcess>(dir_, name, client_ports_[static_cast<std::size_t>(i)],
                                         node_args_[static_cast<std::size_t>(i)],
                                         name + "-" + std::to_string(starts_++));
  }

  TempDir dir_;
  std::vector<int> client_ports_;
  std::vector<std::vector<std::string>> node_args_;
  std::vector<std::unique_ptr<NatsProcess>> nodes_;
  std::string url_;
  int starts_ = 0;
};

inline std::optional<std::string> nats_url() {
  const std::string& url = NatsServer::url();
  if (url.empty()) return std::nullopt;
  return url;
}

inline constexpr const char* kNoNats = "no nats-server for the tests: apt-get install nats-server";

// One message of the stream as a consumer sees it.
struct StoredMessage {
  std::uint64_t stream_seq = 0;
  std::string subject;
  std::string msg_id;
  std::uint64_t seq = 0;            // Gw-Seq
  std::uint64_t partition_seq = 0;  // Gw-Partition-Seq
  std::int64_t watermark = 0;       // Gw-Watermark
  std::string data;
};

// Every message of `stream` at `url`, in stream order.
inline std::vector<StoredMessage> read_stream(const std::string& url, const std::string& stream) {
  std::vector<StoredMessage> out;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsStreamInfo* si = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return out;
  natsConnection_JetStream(&js, nc, nullptr);
  if (js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
    for (std::uint64_t seq = si->State.FirstSeq; seq <= si->State.LastSeq && si->State.Msgs > 0; ++seq) {
      natsMsg* m = nullptr;
      if (js_GetMsg(&m, js, stream.c_str(), seq, nullptr, nullptr) != NATS_OK) continue;
      StoredMessage s;
      s.stream_seq = seq;
      s.subject = natsMsg_GetSubject(m);
      s.data.assign(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
      const char* v = nullptr;
      if (natsMsgHeader_Get(m, "Nats-Msg-Id", &v) == NATS_OK) s.msg_id = v;
      if (natsMsgHeader_Get(m, "Gw-Seq", &v) == NATS_OK) s.seq = std::stoull(v);
      if (natsMsgHeader_Get(m, "Gw-Partition-Seq", &v) == NATS_OK) s.partition_seq = std::stoull(v);
      if (natsMsgHeader_Get(m, "Gw-Watermark", &v) == NATS_OK) s.watermark = std::stoll(v);
      out.push_back(std::move(s));
      natsMsg_Destroy(m);
    }
    jsStreamInfo_Destroy(si);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return out;
}

// Removes `stream` (if there is one), so a test starts from an empty log.
inline void delete_stream(const std::string& url, const std::string& stream) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return;
  natsConnection_JetStream(&js, nc, nullptr);
  js_DeleteStream(js, stream.c_str(), nullptr, nullptr);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

// Makes `stream` refuse new messages once it holds `max_msgs` (a full
// stream: how a test makes JetStream say no).
inline bool limit_stream(const std::string& url, const std::string& stream, std::int64_t max_msgs) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsStreamInfo* si = nullptr;
  jsStreamInfo* updated = nullptr;
  bool ok = false;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return false;
  natsConnection_JetStream(&js, nc, nullptr);
  if (js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
    si->Config->MaxMsgs = max_msgs;
    si->Config->Discard = js_DiscardNew;
    ok = js_UpdateStream(&updated, js, si->Config, nullptr, nullptr) == NATS_OK;
    jsStreamInfo_Destroy(updated);
    jsStreamInfo_Destroy(si);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return ok;
}

// Messages per subject.
inline std::map<std::string, std::size_t> count_by_subject(const std::vector<StoredMessage>& messages) {
  std::map<std::string, std::size_t> out;
  for (const auto& m : messages) ++out[m.subject];
  return out;
}

}  // namespace gw::test
