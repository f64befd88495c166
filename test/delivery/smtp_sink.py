"""SMTP sink for the delivery tests (Debian python3-aiosmtpd; run with /usr/bin/python3).

    smtp_sink.py PORT OUTDIR [--fault-rate R] [--tls-cert PEM --tls-key PEM [--smtps | --require-starttls]]
                             [--auth USER:PASSWORD [--auth-mechs PLAIN,LOGIN]]

Listens on 127.0.0.1:PORT and stores every accepted message as OUTDIR/NNNNNN.eml (the bytes as
received) plus OUTDIR/NNNNNN.json ({"mail_from", "rcpt_tos", "received_at"}). Writes
OUTDIR/ready once listening; exits on SIGTERM/SIGINT.

Scenarios by the recipient's local part (prefix):
  bounce...    RCPT -> 550 5.1.1 (unknown user: hard bounce)
  reject...    RCPT -> 554 5.7.1 (policy rejection: permanent, no suppression)
  tempfail...  RCPT -> 451 4.3.0 for the first two attempts of an address, then accepted
  slow...      DATA of the first attempt of an address stalls for 30 s (OUTDIR/slow-started is
               written when it begins), later attempts are accepted at once
Attempts are logged in OUTDIR/attempts.log (one "RCPT addr code" line each).

Options (all off by default; the acceptance checks 64-66 use them):
  --fault-rate R     a fraction R of the other addresses (chosen by a hash of the address) fail
                     their first attempt transiently: half at RCPT (451 4.3.2), half after the
                     message data (452 4.3.1); logged as "FAULT addr code" lines
  --delay-ms D       every accepted message data is answered after D ms
  --tls-cert/--tls-key  certificate and key: STARTTLS is offered (--require-starttls: required
                     before MAIL) or, with --smtps, the listener speaks implicit TLS
  --auth USER:PASSWORD  AUTH required (after TLS); wrong credentials get 535 5.7.8; logged as
                     "AUTH mechanism login ok|fail" lines; --auth-mechs limits the mechanisms
"""
import argparse
import hashlib
import ssl
import asyncio
import json
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("outdir")
ap.add_argument("--fault-rate", type=float, default=0.0)
ap.add_argument("--delay-ms", type=int, default=0)
ap.add_argument("--tls-cert")
ap.add_argument("--tls-key")
ap.add_argument("--smtps", action="store_true")
ap.add_argument("--require-starttls", action="store_true")
ap.add_argument("--auth")
ap.add_argument("--auth-mechs", default="PLAIN,LOGIN")
ARGS = ap.parse_args()
PORT = ARGS.port
OUT = ARGS.outdir
os.makedirs(OUT, exist_ok=True)

lock = threading.Lock()
counter = [0]
tries = {}
data_tries = {}


def faulty(address):
    """0 (no fault), 1 (RCPT 451) or 2 (DATA 452) for an address under --fault-rate."""
    if ARGS.fault_rate <= 0:
        return 0
    h = hashlib.md5(address.lower().encode()).digest()
    if int.from_bytes(h[:4], "big") / 2.0 ** 32 >= ARGS.fault_rate:
        return 0
    return 1 + (h[4] & 1)


def log(line):
    with lock, open(os.path.join(OUT, "attempts.log"), "a") as f:
        f.write(line + "\n")


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        with lock:
            n = tries.get(address, 0) + 1
            tries[address] = n
        if local.startswith("bounce"):
            code = "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        elif local.startswith("reject"):
            code = "554 5.7.1 <%s>: Message rejected by policy" % address
        elif local.startswith("tempfail") and n <= 2:
            code = "451 4.3.0 Temporary failure, try again later"
        elif faulty(address) == 1 and n == 1:
            code = "451 4.3.2 Injected fault, try again later"
            log("FAULT %s 451" % address)
        else:
            envelope.rcpt_tos.append(address)
            code = "250 OK"
        log("RCPT %s %s" % (address, code[:3]))
        return code

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            if rcpt.split("@", 1)[0].lower().startswith("slow") and tries.get(rcpt, 0) == 1:
                open(os.path.join(OUT, "slow-started"), "w").write(str(time.time()))
                await asyncio.sleep(30)
                return "451 4.4.2 Timeout"
        for rcpt in envelope.rcpt_tos:
            if faulty(rcpt) == 2:
                with lock:
                    m = data_tries.get(rcpt, 0) + 1
                    data_tries[rcpt] = m
                if m == 1:
                    log("FAULT %s 452" % rcpt)
                    return "452 4.3.1 Injected fault: insufficient system storage"
        if ARGS.delay_ms > 0:
            await asyncio.sleep(ARGS.delay_ms / 1000.0)
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with lock:
            counter[0] += 1
            n = counter[0]
        base = os.path.join(OUT, "%06d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "received_at": time.time()}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as %06d" % n


def authenticator(server, session, envelope, mechanism, auth_data):
    """Checks AUTH PLAIN/LOGIN credentials against --auth and logs the attempt."""
    from aiosmtpd.smtp import AuthResult, LoginPassword
    user, _, password = ARGS.auth.partition(":")
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
          and auth_data.password == password.encode())
    login = auth_data.login.decode("utf-8", "replace") if isinstance(auth_data, LoginPassword) else "?"
    log("AUTH %s %s %s %s" % (mechanism, login, "ok" if ok else "fail",
                              "tls" if (session.ssl or ARGS.smtps) else "plain"))
    return AuthResult(success=ok, handled=False)


def main():
    kwargs = {}
    if ARGS.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        if ARGS.smtps:
            kwargs["ssl_context"] = ctx
        else:
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = ARGS.require_starttls
    if ARGS.auth:
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        # aiosmtpd counts only STARTTLS as TLS; an implicit-TLS listener is TLS from the start
        kwargs["auth_require_tls"] = not ARGS.smtps
        mechs = {m.strip().upper() for m in ARGS.auth_mechs.split(",")}
        kwargs["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in mechs]
    controller = Controller(Handler(), hostname="127.0.0.1", port=PORT, decode_data=False,
                            data_size_limit=64 * 1024 * 1024, **kwargs)
    controller.start()
    open(os.path.join(OUT, "ready"), "w").write(str(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(0.5):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
