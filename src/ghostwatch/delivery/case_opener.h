// Drains the outbox's "case" channel: every `sent` escalation decision
// opens or reopens its contract's case for the decision's team
// (Store::take_escalation, one transaction each, so a crash at any point
// neither loses nor doubles a case). Not thread-safe: one delivery thread.
#pragma once

#include <cstddef>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/store/store.h"

namespace gw {

class CaseOpener {
 public:
  // `store` and `clock` must outlive the opener. With `client_checkin`, each
  // escalation also queues the check-in e-mail to the client (mail.client_checkin).
  CaseOpener(Store& store, const Clock& clock, bool client_checkin)
      : store_(store), clock_(clock), client_checkin_(client_checkin) {}

  // Takes every escalation due now, up to a page of them; returns how many.
  Result<std::size_t> run_once();

 private:
  Store& store_;
  const Clock& clock_;
  bool client_checkin_;
};

}  // namespace gw
