"""SMTP sink for the delivery tests (Debian python3-aiosmtpd; run with /usr/bin/python3).

    smtp_sink.py PORT OUTDIR

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
"""
import asyncio
import json
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller

PORT = int(sys.argv[1])
OUT = sys.argv[2]
os.makedirs(OUT, exist_ok=True)

lock = threading.Lock()
counter = [0]
tries = {}


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


def main():
    controller = Controller(Handler(), hostname="127.0.0.1", port=PORT, decode_data=False,
                            data_size_limit=64 * 1024 * 1024)
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
