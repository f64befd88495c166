#!/usr/bin/python3
"""sms_sim.py — a Twilio-shaped SMS provider simulator for the delivery tests.

    /usr/bin/python3 sms_sim.py PORT DIR [--fault-rate R] [--tls-cert PEM --tls-key PEM]

Serves POST /2010-04-01/Accounts/{sid}/Messages.json on 127.0.0.1:PORT (threaded, stdlib only),
records every request as one JSON line in DIR/requests.jsonl (time, path, Authorization,
Idempotency-Key, form fields, status answered) and writes DIR/ready once listening.

Scenario by the last digit of the To number:
    2  429 Too Many Requests with Retry-After: 2 on the first request of an idempotency key, then 201
    3  500 on the first request of an idempotency key, then 201
    4  400 {"code": 21211, "message": "invalid 'To' phone number"} (always)
    9  stalls 30 s before answering the first request of an idempotency key (recorded on
       arrival), then 201
    else 201 {"sid": "SM<32 hex>", "status": "queued", ...}

Twilio's magic test numbers come first (before the scenarios above): answered 400 with the
provider error code Twilio gives them, {"code": N, "message": ..., "status": 400}, every time:
    To   +15005550001 21211 invalid number      +15005550002 21612 cannot route
         +15005550003 21408 no region permission +15005550004 21610 unsubscribed (STOP)
         +15005550009 21614 not a mobile number
    From +15005550001 21212 invalid From number  +15005550007 21606 From not SMS-capable / not ours

Options (off by default; the acceptance checks 64-66 use them):
    --fault-rate R  a fraction R of the other idempotency keys (chosen by a hash of the key) get a
                    transient error on their first request: 429 with Retry-After 1 or 2 (seconds;
                    the entry records "retry_after") for a fraction --rate-429 of all keys
                    (default: half of R), 500 for the rest
    --delay-ms D    accepted (201) requests are answered after D ms
    --tls-cert/--tls-key  serve HTTPS (the listening socket wrapped with ssl)
    --status-all S  answer every request with HTTP status S (e.g. 500: a provider that is down;
                    63-delivery-rate-failover uses it)
    --retry-after N the Retry-After (seconds) of scenario 2 (default 2)
"""
import argparse
import hashlib
import ssl
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

AP = argparse.ArgumentParser()
AP.add_argument("port", type=int)
AP.add_argument("dir")
AP.add_argument("--fault-rate", type=float, default=0.0)
AP.add_argument("--rate-429", type=float, default=None)
AP.add_argument("--delay-ms", type=int, default=0)
AP.add_argument("--tls-cert")
AP.add_argument("--tls-key")
AP.add_argument("--status-all", type=int, default=0)
AP.add_argument("--retry-after", type=int, default=2)
ARGS = AP.parse_args()
PORT = ARGS.port
DIR = ARGS.dir
LOCK = threading.Lock()
SEEN = {}
# Twilio's magic test numbers: the error code and message of the 400 reply (see the docstring).
MAGIC_TO = {"+15005550001": (21211, "The 'To' number is not a valid phone number."),
            "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
            "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region."),
            "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
            "+15005550009": (21614, "The 'To' number is not a valid mobile number.")}
MAGIC_FROM = {"+15005550001": (21212, "The 'From' number is not a valid phone number."),
              "+15005550007": (21606, "The 'From' phone number is not a valid, SMS-capable inbound phone number for your account.")}


def fault_of(key):
    """None, or the transient fault (500 or 429 with its Retry-After) of a key under --fault-rate."""
    if ARGS.fault_rate <= 0 or not key:
        return None
    h = hashlib.md5(key.encode()).digest()
    u = int.from_bytes(h[:4], "big") / 2.0 ** 32
    if u >= ARGS.fault_rate:
        return None
    rate429 = ARGS.fault_rate / 2 if ARGS.rate_429 is None else ARGS.rate_429
    return (429, 1 + (h[5] & 1)) if u < rate429 else (500, None)


def record(entry):
    """Appends one request to the log."""
    with LOCK:
        with open(DIR + "/requests.jsonl", "a") as f:
            f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    """Answers message creation requests by scenario."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        """Quiet: the requests log is the record."""

    def reply(self, status, body, headers=()):
        """Sends a JSON reply."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        """One message creation request."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        key = self.headers.get("Idempotency-Key")
        to = form.get("To", "")
        with LOCK:
            n = SEEN.get(key, 0) + 1
            SEEN[key] = n
        entry = {"t": time.time(), "path": self.path, "auth": self.headers.get("Authorization"),
                 "key": key, "ctype": self.headers.get("Content-Type"), "form": form, "n": n}
        if not self.path.endswith("/Messages.json"):
            entry["status"] = 404
            record(entry)
            return self.reply(404, {"code": 20404, "message": "not found"})
        if ARGS.status_all:
            entry["status"] = ARGS.status_all
            record(entry)
            return self.reply(ARGS.status_all, {"code": 20000 + ARGS.status_all, "message": "simulated outage"})
        magic = MAGIC_FROM.get(form.get("From", "")) or MAGIC_TO.get(to)
        if magic:
            entry["status"] = 400
            entry["code"] = magic[0]
            record(entry)
            return self.reply(400, {"code": magic[0], "message": magic[1], "status": 400,
                                    "more_info": "https://www.twilio.com/docs/errors/%d" % magic[0]})
        last = to[-1:] if to else ""
        if last == "2" and n == 1:
            entry["status"] = 429
            record(entry)
            return self.reply(429, {"code": 20429, "message": "Too Many Requests"},
                              [("Retry-After", str(ARGS.retry_after))])
        if last == "3" and n == 1:
            entry["status"] = 500
            record(entry)
            return self.reply(500, {"code": 20500, "message": "Internal Server Error"})
        if last == "9" and n == 1:
            entry["status"] = "stalled"
            record(entry)
            time.sleep(30)
            try:
                return self.reply(201, {"sid": "SMlate", "status": "queued"})
            except OSError:
                return None
        fault = fault_of(key) if last not in ("2", "3", "4", "9") else None
        if fault and n == 1:
            entry["status"] = fault[0]
            entry["fault"] = True
            if fault[0] == 429:
                entry["retry_after"] = fault[1]
                record(entry)
                return self.reply(429, {"code": 20429, "message": "Too Many Requests"},
                                  [("Retry-After", str(fault[1]))])
            record(entry)
            return self.reply(500, {"code": 20500, "message": "Internal Server Error"})
        if last == "4":
            entry["status"] = 400
            record(entry)
            return self.reply(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
        if ARGS.delay_ms > 0:
            time.sleep(ARGS.delay_ms / 1000.0)
        sid = "SM" + hashlib.md5((key or to).encode()).hexdigest()
        entry["status"] = 201
        entry["sid"] = sid
        record(entry)
        return self.reply(201, {"account_sid": "ACtest", "sid": sid, "status": "queued", "to": to,
                                "from": form.get("From"), "body": form.get("Body")})


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
if ARGS.tls_cert:
    CTX = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    CTX.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
    server.socket = CTX.wrap_socket(server.socket, server_side=True)
open(DIR + "/ready", "w").close()
server.serve_forever()
