"""Test-only SMTP server for the mail tests, on aiosmtpd (Debian's
python3-aiosmtpd):

    /usr/bin/python3 tests/smtp_sink.py --listen 127.0.0.1:PORT --maildir DIR
        [--starttls CERT KEY | --smtps CERT KEY] [--auth USER:PASSWORD]

Like aiosmtpd.handlers.Mailbox it delivers into the Maildir DIR, but it
stores the DATA bytes exactly as they arrived (after dot-unstuffing), so a
test can compare them byte for byte, and it appends
"<mail from> <rcpts> tls=<0|1> auth=<login or ->" per message to
DIR/envelopes.txt.

Recipients whose local part starts with "reject-perm" get 550, with
"reject-temp" 451, so the transport's failure classes can be tested.
A message to a local part starting with "slow-accept" is stored at once but
answered only 3 s later, so a test can kill the sender between the
delivery and its record of it.

--starttls offers STARTTLS and refuses mail before it; --smtps speaks TLS
from the first byte; --auth offers AUTH PLAIN and LOGIN (after STARTTLS when
that is on) and refuses mail without it.
"""
import argparse
import asyncio
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


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
        login = session.auth_data.login.decode() if session.authenticated else "-"
        with open(os.path.join(self.mail_dir, "envelopes.txt"), "a") as f:
            f.write("%s %s tls=%d auth=%s\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos),
                                                 1 if server.transport.get_extra_info("ssl_object") else 0, login))
        if any(rcpt.startswith("slow-accept") for rcpt in envelope.rcpt_tos):
            await asyncio.sleep(3)
        return "250 2.0.0 accepted for delivery"


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", metavar="USER:PASSWORD")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)

    kwargs = {}
    if args.starttls:
        kwargs.update(tls_context=tls_context(*args.starttls), require_starttls=True)
    if args.smtps:
        kwargs.update(ssl_context=tls_context(*args.smtps))
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=bool(args.starttls or args.smtps))
    controller = Controller(GhostwatchSink(args.maildir), hostname=host, port=int(port), **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
