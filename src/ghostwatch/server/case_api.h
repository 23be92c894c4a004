// The case routes of the HTTP API (docs/api.md, "Cases"):
//   GET   /v1/cases?contract=&team=&status=&assignee=&after=&limit=
//   GET   /v1/cases/{id}          the case with its timeline
//   PATCH /v1/cases/{id}          {"status", "outcome", "assignee", "author"}, any of them
//   POST  /v1/cases/{id}/notes    {"text", "author"}
// Each handler answers JSON; a bad parameter throws http::BadParameter (a
// 400 from the route wrapper), a bad body is a 400 naming the field.
// Thread-safe: the store serialises writes.
#pragma once

#include <httplib.h>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/store/store.h"

namespace gw {

class CaseApi {
 public:
  // `store` and `clock` (the time of updates and notes) must outlive it.
  CaseApi(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  void list(const httplib::Request& req, httplib::Response& res);
  void get(const httplib::Request& req, httplib::Response& res);
  void update(const httplib::Request& req, httplib::Response& res);
  void add_note(const httplib::Request& req, httplib::Response& res);

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace gw
