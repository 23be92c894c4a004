// Takes the e-mail a mail server delivers into a maildir, so that a real
// MTA (Postfix, Exim: `home_mailbox = Maildir/`, or an alias to a maildir)
// can hand us replies without a webhook. The MTA writes each message into
// `tmp/` and renames it into `new/` when complete, so a file in `new/` is
// always whole. Each pass gives every file in `new/` (in name order, which
// is arrival order for maildir names) to the intake, and once the intake
// has stored it moves it to `cur/` with the seen flag (":2,S"), as a mail
// reader would. A file the intake fails on stays in `new/` for the next
// pass; a crash between storing and moving is harmless, because the intake
// takes the same message once. Not thread-safe: one thread runs the passes.
#pragma once

#include <cstddef>
#include <string>

#include "ghostwatch/core/status.h"
#include "ghostwatch/inbound/intake.h"

namespace gw::inbound {

class MaildirWatcher {
 public:
  // Creates `dir` and its tmp/, new/ and cur/ when missing. `intake` must
  // outlive the watcher.
  static Result<MaildirWatcher> open(const std::string& dir, Intake& intake);

  struct Pass {
    std::size_t taken = 0;       // stored now (any route)
    std::size_t duplicates = 0;  // stored before
    std::size_t failed = 0;      // left in new/ for the next pass
    std::string last_error;
  };
  Pass run_once();

 private:
  MaildirWatcher(std::string dir, Intake& intake) : dir_(std::move(dir)), intake_(&intake) {}

  std::string dir_;
  Intake* intake_;
};

}  // namespace gw::inbound
