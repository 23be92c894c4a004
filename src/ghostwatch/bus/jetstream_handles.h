// JetStream's nats.c handles, for the bus's own files (jetstream.cc, the
// partition consumer); nothing outside src/ghostwatch/bus includes this.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <mutex>
#include <string>

#include "ghostwatch/bus/jetstream.h"

namespace gw::bus {

struct JetStream::Handles {
  natsOptions* options = nullptr;
  natsConnection* conn = nullptr;
  jsCtx* js = nullptr;
  std::string servers;
  // Written by nats.c's ack thread.
  std::atomic<std::uint64_t> stored = 0;
  std::atomic<std::uint64_t> duplicates = 0;
  std::atomic<std::uint64_t> failed = 0;
  std::mutex mu;
  std::string first_error;

  ~Handles() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (conn != nullptr) natsConnection_Destroy(conn);
    if (options != nullptr) natsOptions_Destroy(options);
  }
};

// nats.c's text for `s`, with its last error and the JetStream error code.
std::string nats_error(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0));

}  // namespace gw::bus
