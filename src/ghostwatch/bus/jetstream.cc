#include "ghostwatch/bus/jetstream.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>
#include <vector>

#include "ghostwatch/bus/jetstream_handles.h"

namespace gw::bus {

namespace {

constexpr const char* kStreamSubjects = "ghostwatch.events.*";
// How long opening the stream waits for a forming cluster (its peers, its API).
constexpr auto kClusterFormingWait = std::chrono::seconds(30);

void jetstream_on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* h = static_cast<JetStream::Handles*>(closure);
  if (pa != nullptr) {
    (pa->Duplicate ? h->duplicates : h->stored).fetch_add(1, std::memory_order_relaxed);
  } else if (pae != nullptr) {
    if (h->failed.fetch_add(1) == 0) {
      const char* id = natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK ? id : "?";
      std::lock_guard lock(h->mu);
      h->first_error = fmt::format("message {} on {}: {}{}", id, natsMsg_GetSubject(msg), natsStatus_GetText(pae->Err),
                                   pae->ErrText != nullptr ? fmt::format(" ({})", pae->ErrText) : "");
    }
  }
  natsMsg_Destroy(msg);
}

// The stream as it should be, or an error naming what differs from it. A
// cluster that is still forming (its servers not yet all known to the
// metadata leader, or its JetStream API not answering yet) is waited for a
// while, as workers and servers started together need.
Status jetstream_ensure_stream(jsCtx* js, const BusSettings& settings) {
  const auto deadline = std::chrono::steady_clock::now() + kClusterFormingWait;
  const auto wait_again = [&deadline] {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    return true;
  };
  jsErrCode code = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  natsStatus s;
  do {
    code = static_cast<jsErrCode>(0);
    s = js_GetStreamInfo(&info, js, settings.stream.c_str(), nullptr, &code);
  } while ((s == NATS_TIMEOUT || code == JSClusterNotAvailErr) && wait_again());
  if (s == NATS_NOT_FOUND) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subjects[] = {kStreamSubjects};
    config.Name = settings.stream.c_str();
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = settings.replicas;
    config.Duplicates = kDuplicateWindow * 1'000'000;  // ns
    // A forming cluster cannot place the replicas yet.
    do {
      code = static_cast<jsErrCode>(0);
      s = js_AddStream(&info, js, &config, nullptr, &code);
    } while (s != NATS_OK && (code == JSClusterNoPeersErr || code == JSClusterNotAvailErr) && wait_again());
    if (s != NATS_OK) {
      return Status::error(fmt::format("bus: creating stream {} (replicas {}) failed: {}", settings.stream,
                                       settings.replicas, nats_error(s, code)));
    }
    jsStreamInfo_Destroy(info);
    return Status::ok();
  }
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: reading stream {} failed: {}", settings.stream, nats_error(s, code)));
  }
  const jsStreamConfig& c = *info->Config;
  std::string problem;
  if (c.SubjectsLen != 1 || std::string_view(c.Subjects[0]) != kStreamSubjects) {
    problem = fmt::format("its subjects are not just \"{}\"", kStreamSubjects);
  } else if (c.Storage != js_FileStorage) {
    problem = "it does not use file storage";
  } else if (c.Replicas != settings.replicas) {
    problem = fmt::format("it has {} replicas, the config says bus.replicas = {}", c.Replicas, settings.replicas);
  }
  jsStreamInfo_Destroy(info);
  if (problem.empty()) return Status::ok();
  return Status::error(fmt::format("bus.stream: stream {} exists but {}", settings.stream, problem));
}

}  // namespace

JetStream::JetStream(std::unique_ptr<Handles> h) : h_(std::move(h)) {}
JetStream::~JetStream() = default;

Result<std::unique_ptr<JetStream>> JetStream::connect(const BusSettings& settings, std::int64_t max_pending) {
  auto h = std::make_unique<Handles>();
  h->servers = settings.url;
  natsStatus s = natsOptions_Create(&h->options);
  // natsOptions_SetURL takes one server: the list goes to SetServers.
  std::vector<std::string> servers;
  for (std::size_t start = 0;;) {
    const std::size_t comma = settings.url.find(',', start);
    servers.push_back(settings.url.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::vector<const char*> server_ptrs;
  for (const std::string& server : servers) server_ptrs.push_back(server.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(h->options, server_ptrs.data(), static_cast<int>(server_ptrs.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(h->options, 5000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(h->options, -1);  // ride out a server restart
  if (s == NATS_OK) s = natsConnection_Connect(&h->conn, h->options);
  if (s != NATS_OK) return Status::error(fmt::format("bus: cannot connect to {}: {}", settings.url, nats_error(s)));
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = max_pending;
  // How long a publish waits for room in a full window before it fails
  // (nats.c's default, 200 ms, fails bodies on a busy machine).
  options.PublishAsync.StallWait = 30000;
  options.PublishAsync.AckHandler = jetstream_on_ack;
  options.PublishAsync.AckHandlerClosure = h.get();
  options.Wait = 10000;  // ms, for stream requests
  s = natsConnection_JetStream(&h->js, h->conn, &options);
  if (s != NATS_OK) return Status::error(fmt::format("bus: JetStream on {}: {}", settings.url, nats_error(s)));
  if (Status st = jetstream_ensure_stream(h->js, settings); !st) return st;
  return std::unique_ptr<JetStream>(new JetStream(std::move(h)));
}

Status JetStream::publish(const LogMessage& m) {
  natsMsg* msg = nullptr;
  const std::string subject(m.subject);
  natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, m.data.data(), static_cast<int>(m.data.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", std::string(m.msg_id).c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Gw-Seq", std::to_string(m.seq).c_str());
  if (s == NATS_OK && m.partition_seq > 0) {
    s = natsMsgHeader_Set(msg, "Gw-Partition-Seq", std::to_string(m.partition_seq).c_str());
  }
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Gw-Watermark", std::to_string(m.watermark).c_str());
  if (s == NATS_OK && !m.control.empty()) s = natsMsgHeader_Set(msg, "Gw-Control", std::string(m.control).c_str());
  if (s == NATS_OK) s = js_PublishMsgAsync(h_->js, &msg, nullptr);
  natsMsg_Destroy(msg);  // nullptr once the library owns it
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: publishing to {} on {} failed: {}", subject, h_->servers, nats_error(s)));
  }
  return Status::ok();
}

Result<JetStream::Acks> JetStream::wait_acks(Duration timeout) {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = timeout;
  const natsStatus s = js_PublishAsyncComplete(h_->js, &options);
  Acks acks{h_->stored.exchange(0), h_->duplicates.exchange(0)};
  const std::uint64_t failed = h_->failed.exchange(0);
  std::string first;
  {
    std::lock_guard lock(h_->mu);
    first.swap(h_->first_error);
  }
  if (failed > 0) {
    return Status::error(
        fmt::format("bus: {} messages were not stored by {}; the first: {}", failed, h_->servers, first));
  }
  if (s != NATS_OK) {
    return Status::error(fmt::format("bus: waiting for {} to acknowledge: {}", h_->servers, nats_error(s)));
  }
  return acks;
}

std::string nats_error(natsStatus s, jsErrCode code) {
  const char* last = nats_GetLastError(nullptr);
  std::string out = natsStatus_GetText(s);
  if (last != nullptr && *last != '\0' && out != last) out += fmt::format(" ({})", last);
  if (code != 0) out += fmt::format(" [JetStream error {}]", static_cast<int>(code));
  return out;
}

}  // namespace gw::bus
