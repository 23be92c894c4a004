// The live service's HTTP API (docs/api.md): ingest, advance, queries,
// cases, health and metrics, with bearer-token scopes. Thread-safe: requests run on
// a pool of threads; the Service and Store serialise what they must.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ghostwatch/bus/bus_metrics.h"
#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/inbound/intake.h"
#include "ghostwatch/mail/tokens.h"
#include "ghostwatch/server/access_log.h"
#include "ghostwatch/server/request_metrics.h"
#include "ghostwatch/server/service.h"
#include "ghostwatch/store/store.h"

namespace gw {

// Bearer tokens; a write token may also read. With none configured the API
// is open (serve allows that on loopback only).
struct ApiTokens {
  std::vector<std::string> read;
  std::vector<std::string> write;
  bool enabled() const { return !read.empty() || !write.empty(); }
};

struct HttpOptions {
  std::size_t max_body_bytes = 64u << 20;  // 413 above it
  int threads = 16;                        // one per keep-alive connection in use
  ApiTokens tokens;
  // Checks the opt-out tokens of /v1/unsubscribe links; nullptr when e-mail
  // is off (the route answers 404). Must outlive the API.
  const mail::TokenSigner* opt_out_tokens = nullptr;
  // Takes POST /v1/inbound; nullptr: the inbound routes are not served.
  // Must outlive the API.
  inbound::Intake* intake = nullptr;
  // The dashboard's built files, served at / (empty: none).
  std::string web_root;
  // Bus mode: the event log's figures in /metrics (nullptr: not in bus
  // mode). Must outlive the API.
  const bus::BusMetrics* bus_metrics = nullptr;
};

class HttpApi {
 public:
  // All references must outlive the API.
  HttpApi(Service& service, Store& store, const Clock& clock, RequestMetrics& metrics, Logger& logger,
          HttpOptions options);
  ~HttpApi();

  // Binds `host`:`port` (0: any free port); returns the port bound.
  Result<int> bind(const std::string& host, int port);
  // Serves until stop(); in-flight requests finish first.
  void run();
  void stop();
  // readyz answers 503 from now on (set when draining).
  void set_draining();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gw
