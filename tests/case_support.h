// Test-only helpers for the case tests: a service in event time over a real
// store (SQLite, or PostgreSQL for the contract suites) that turns a client's unanswered message into a case (the
// harness's kLadder: nudges at 24 h and 72 h, an escalation to "ops" at
// 120 h), a clock the test sets, and an HTTP server on loopback for the
// connectors to talk to.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine_test_harness.h"
#include "ghostwatch/delivery/case_opener.h"
#include "ghostwatch/server/service.h"
#include "serve_process.h"
#include "store_backends.h"

namespace gw::test {

class SettableClock final : public Clock {
 public:
  Instant now() const override { return now_; }
  Instant now_ = parse_rfc3339("2024-03-20T00:00:00Z").value();
};

class CaseWorld {
 public:
  // On `backend`'s store; without a PostgreSQL server, `store` and `service`
  // stay null and available() is false (the test skips with kNoPostgres).
  explicit CaseWorld(const TempDir& dir, Backend backend = Backend::kSqlite) {
    const StoreOpener opener(backend, dir);
    if (!opener.available()) return;
    store = opener.open();
    service = std::move(Service::open(kLadder, *store, clock, ClockMode::kEvents).value());
  }
  bool available() const { return service != nullptr; }

  // Contract c1 (client k1, freelancer f1), its client's message at
  // 2024-03-01T10:00Z after `before` (e.g. user events), steps evaluated
  // through 2024-03-07 and the escalation taken: returns the case's id.
  std::int64_t escalate(const std::vector<std::string>& before = {}) {
    std::string body;
    for (const std::string& l : before) body += l + "\n";
    for (const auto& l : {Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")}) body += l + "\n";
    EXPECT_EQ(service->ingest(body, "").status, 200);
    EXPECT_TRUE(service->advance_to(parse_rfc3339("2024-03-07T00:00:00Z").value()).is_ok());
    EXPECT_EQ(CaseOpener(*store, clock, false).run_once().value(), 1u);
    return store->cases({}).value().at(0).id;
  }

  SettableClock clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<Service> service;
};

// An httplib::Server on a free loopback port, serving on its own thread
// from start() until destroyed. Add the routes before start().
class LoopbackServer {
 public:
  ~LoopbackServer() {
    server.stop();
    if (thread_.joinable()) thread_.join();
  }
  void start() {
    port_ = server.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server.listen_after_bind(); });
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  httplib::Server server;

 private:
  int port_ = 0;
  std::thread thread_;
};

}  // namespace gw::test
