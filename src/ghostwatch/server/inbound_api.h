// The inbound e-mail routes of the HTTP API (docs/api.md, "Inbound e-mail"):
//   POST /v1/inbound                 a raw RFC 5322 message (the body as it is,
//                                    or an inbound-parse webhook's multipart form
//                                    field `email` or `body-mime`); 201, or 200
//                                    for a message taken before
//   GET  /v1/inbound?route=&after=&limit=   the messages, e.g. the unmatched queue
//   GET  /v1/inbound/{id}            one message (JSON); /raw: its bytes
//   POST /v1/inbound/{id}/attach     {"case", "author"}: an unmatched message joins a case
// Thread-safe: the intake and the store serialise what they change.
#pragma once

#include <httplib.h>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/inbound/intake.h"
#include "ghostwatch/store/store.h"

namespace gw {

class InboundApi {
 public:
  // All references must outlive it.
  InboundApi(inbound::Intake& intake, Store& store, const Clock& clock)
      : intake_(intake), store_(store), clock_(clock) {}

  void take(const httplib::Request& req, httplib::Response& res);
  void list(const httplib::Request& req, httplib::Response& res);
  void get(const httplib::Request& req, httplib::Response& res);
  void raw(const httplib::Request& req, httplib::Response& res);
  void attach(const httplib::Request& req, httplib::Response& res);

 private:
  inbound::Intake& intake_;
  Store& store_;
  const Clock& clock_;
};

}  // namespace gw
