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
  // `store` and `clock` must outlive the opener.
  CaseOpener(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Takes every escalation due now, up to a page of them; returns how many.
  Result<std::size_t> run_once();

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace gw
