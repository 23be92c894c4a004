"""Test-only SMTP sink for tests/mail_smtp_test.cc, run by aiosmtpd:

    /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.GhostwatchSink DIR

(with this directory on PYTHONPATH). Like aiosmtpd.handlers.Mailbox it
delivers into the Maildir DIR, but it stores the DATA bytes exactly as they
arrived (after dot-unstuffing), so a test can compare them byte for byte,
and it appends "<mail from> <rcpt>" per message to DIR/envelopes.txt.
Recipients whose local part starts with "reject-perm" get 550, with
"reject-temp" 451, so the transport's failure classes can be tested.
"""
import os

from aiosmtpd.handlers import Mailbox


class GhostwatchSink(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject-perm"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("reject-temp"):
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mailbox.add(envelope.original_content)
        with open(os.path.join(self.mail_dir, "envelopes.txt"), "a") as f:
            f.write("%s %s\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos)))
        return "250 2.0.0 accepted for delivery"
