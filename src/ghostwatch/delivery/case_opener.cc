#include "ghostwatch/delivery/case_opener.h"

namespace gw {

Result<std::size_t> CaseOpener::run_once() {
  const Instant now = clock_.now();
  auto due = store_.due_outbox("case", now, 200);
  if (!due) return due.status();
  for (const OutboxItem& item : *due) {
    if (auto taken = store_.take_escalation(item, now, client_checkin_); !taken) return taken.status();
  }
  return due->size();
}

}  // namespace gw
