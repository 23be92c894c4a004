// The routes the dashboard's pages read (docs/api.md, "Dashboard"), beside
// the record queries the pages use as they are:
//   GET /v1/overview     what the initiative is doing now: open episodes by
//                        age, decisions today / this week / per day by arm,
//                        reply rates, timer lag, outbox depth, cases
//   GET /v1/at-risk      open episodes, longest waiting first (or, with a
//                        risk model, riskiest first: sort=risk), with the
//                        freelancer's local time, the next step due on the
//                        episode's ladder and its risk when a model scores;
//                        filters country, team, arm
//   GET /v1/campaign     the policy in force
//   GET /v1/experiment   the experiment report (report/) of the live data
// and the dashboard's built files at / (mount_dashboard_files).
//
// "Now" is the wall clock under --clock wall, and under --clock events the
// engine's time: the watermark, or the latest POST /v1/advance when later. The overview and the experiment read
// every decision and episode the store holds on each request: sized for a
// campaign's millions, not for polling many times a second.
// Thread-safe: the service and the store serialise what they must.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>

#include "ghostwatch/core/status.h"
#include "ghostwatch/server/service.h"
#include "ghostwatch/store/store.h"

namespace gw {

class DashboardApi {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Wraps a read route's handler (scope check, errors, metrics, access log).
  using ReadRoute = std::function<httplib::Server::Handler(std::string name, Handler handler)>;

  // All references must outlive the API.
  DashboardApi(Service& service, Store& store) : service_(service), store_(store) {}

  // Registers the four routes on `server`, each wrapped by `read_route`,
  // and, when `web_root` is not empty, the dashboard's files at /.
  void install(httplib::Server& server, const ReadRoute& read_route, const std::string& web_root);

  void overview(const httplib::Request& req, httplib::Response& res);
  void at_risk(const httplib::Request& req, httplib::Response& res);
  void campaign(const httplib::Request& req, httplib::Response& res);
  void experiment(const httplib::Request& req, httplib::Response& res);

 private:
  Instant now() const;

  Service& service_;
  Store& store_;
};

// Serves the files of `dir` (the Vite build: index.html and assets/) at /,
// with a Content-Security-Policy that allows only the server's own scripts,
// styles and API (no inline script, no framing). False when `dir` is not a
// directory.
bool mount_dashboard_files(httplib::Server& server, const std::string& dir);

}  // namespace gw
