"""SMTP server that stops reading for a while after DATA (stdlib only; /usr/bin/python3):

    stall_smtp.py PORT OUTDIR PAUSE_SECONDS

Listens on 127.0.0.1:PORT. After answering 354 to DATA it reads nothing for PAUSE_SECONDS, so a
client uploading a large message blocks in the middle of it; then it reads on. Logs to
OUTDIR/events.log: "DATA <n>" when the n-th message data starts, "ACCEPTED <n> <bytes>" when
its end-of-data line arrived (the message, without the final ".", is stored as OUTDIR/<n>.eml
and answered 250), "CUT <n> <bytes>" when the connection ended inside the message data (nothing
accepted). Writes OUTDIR/ready once listening; exits on SIGTERM. Used by
test/checks/67-delivery-patroni.sh to catch a sender that ends an interrupted message with "."
(which delivers it truncated).
"""
import os
import signal
import socket
import sys
import threading
import time

port, out, pause = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
os.makedirs(out, exist_ok=True)
lock = threading.Lock()
count = [0]


def log(line):
    """Appends one line to OUTDIR/events.log."""
    with lock, open(os.path.join(out, "events.log"), "a") as f:
        f.write(line + "\n")


def handle(c):
    """One SMTP session: any command gets 250, DATA 354, QUIT 221."""
    c.sendall(b"220 stall ESMTP\r\n")
    buf = b""
    while True:
        d = c.recv(65536)
        if not d:
            return
        buf += d
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            cmd = line[:4].upper()
            if cmd == b"QUIT":
                c.sendall(b"221 bye\r\n")
                c.close()
                return
            if cmd != b"DATA":
                c.sendall(b"250 ok\r\n")
                continue
            with lock:
                count[0] += 1
                n = count[0]
            c.sendall(b"354 go on\r\n")
            log("DATA %d" % n)
            time.sleep(pause)
            data = buf
            while b"\r\n.\r\n" not in data and not data.startswith(b".\r\n"):
                d = c.recv(65536)
                if not d:
                    log("CUT %d %d" % (n, len(data)))
                    return
                data += d
            if data.startswith(b".\r\n"):
                msg, buf = b"", data[3:]
            else:
                msg, buf = data.split(b"\r\n.\r\n", 1)
                msg += b"\r\n"
            with open(os.path.join(out, "%d.eml" % n), "wb") as f:
                f.write(msg)
            log("ACCEPTED %d %d" % (n, len(msg)))
            c.sendall(b"250 accepted\r\n")


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(16)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
open(os.path.join(out, "ready"), "w").close()
while True:
    conn, _ = srv.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
