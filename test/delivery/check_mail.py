"""Checks the messages the SMTP sink received against the outbox (stdlib only + openssl CLI).

    check_mail.py SINKDIR EXPECT.json DKIM_PUBLIC_KEY.pem WORKDIR

EXPECT.json: {"from": ..., "sent": [{recipient, message_id, key, subject, text, html,
att_sha256, att_type, att_ext}, ...]}. Prints one "PASS name" or "FAIL name: detail" line per
check (each check covers every message) and writes the first PDF attachment to WORKDIR/first.pdf.
"""
import base64
import email
import email.policy
import email.utils
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.parse

SINK, EXPECT, PUBKEY, WORK = sys.argv[1:5]
expect = json.load(open(EXPECT))
sent = {e["message_id"]: e for e in expect["sent"]}

failures = {}
checks = ["one message per sent row, none else", "envelope recipient", "headers From/To/Subject/Date",
          "Message-ID from the idempotency key", "List-Unsubscribe + List-Unsubscribe-Post",
          "MIME structure mixed(alternative(text, html), attachment)", "text and HTML parts",
          "attachment type, name and bytes", "DKIM-Signature verifies (relaxed/relaxed, rsa-sha256)",
          "lines <= 998 octets, CRLF only"]
try:
    import dkim as dkimpy     # Debian python3-dkim: an independent verifier, used when installed
    checks.append("DKIM verifies with dkimpy (independent implementation)")
except ImportError:
    dkimpy = None


def fail(check, detail):
    failures.setdefault(check, []).append(detail)


def relaxed_header(name, value):
    v = value.replace(b"\r\n", b"")
    v = re.sub(rb"[ \t]+", b" ", v).strip(b" \t")
    return name.strip().lower() + b":" + v


def relaxed_body(body):
    lines = body.split(b"\r\n")
    out = [re.sub(rb"[ \t]+", b" ", l).rstrip(b" \t") for l in lines]
    while out and out[-1] == b"":
        out.pop()
    return b"".join(l + b"\r\n" for l in out)


def dkim_verify(raw):
    """Returns None when the signature verifies, else the reason."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return "no header/body separator"
    head, body = raw[:end + 2], raw[end + 4:]
    fields = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += b"\r\n" + line
        else:
            name, _, val = line.partition(b":")
            fields.append([name, val])
    sigs = [f for f in fields if f[0].strip().lower() == b"dkim-signature"]
    if len(sigs) != 1:
        return "%d DKIM-Signature headers" % len(sigs)
    sigval = sigs[0][1]
    tags = {}
    for part in sigval.replace(b"\r\n", b"").split(b";"):
        if b"=" in part:
            k, _, v = part.partition(b"=")
            tags[k.strip().decode()] = re.sub(rb"\s+", b"", v).decode()
    if tags.get("v") != "1" or tags.get("a") != "rsa-sha256" or tags.get("c") != "relaxed/relaxed":
        return "unexpected tags %r" % {k: tags.get(k) for k in ("v", "a", "c")}
    bh = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest()).decode()
    if bh != tags.get("bh"):
        return "body hash mismatch"
    data = b""
    used = set()
    for h in tags["h"].split(":"):
        # the last not yet used occurrence (RFC 6376 5.4.2)
        for idx in range(len(fields) - 1, -1, -1):
            if idx not in used and fields[idx][0].strip().lower() == h.lower().encode():
                used.add(idx)
                data += relaxed_header(fields[idx][0], fields[idx][1]) + b"\r\n"
                break
    unsigned = re.sub(rb"(^|;)(\s*b\s*=)[^;]*", rb"\1\2", sigval)
    data += relaxed_header(sigs[0][0], unsigned)
    sigfile, datafile = os.path.join(WORK, "sig.bin"), os.path.join(WORK, "signed.bin")
    open(sigfile, "wb").write(base64.b64decode(tags["b"]))
    open(datafile, "wb").write(data)
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", PUBKEY, "-signature", sigfile, datafile],
                       capture_output=True, text=True)
    if "Verified OK" not in r.stdout:
        return "openssl: " + (r.stdout + r.stderr).strip()
    if tags.get("d") != expect["dkim_domain"] or tags.get("s") != expect["dkim_selector"]:
        return "d=/s= mismatch"
    for need in ("from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"):
        if need not in tags["h"].lower().split(":"):
            return "header %s not signed" % need
    return None


# the DNS TXT record dkimpy would look up: v=DKIM1; k=rsa; p=<DER public key>
DKIM_TXT = b"v=DKIM1; k=rsa; p=" + base64.b64encode(subprocess.run(
    ["openssl", "pkey", "-pubin", "-in", PUBKEY, "-outform", "DER"], capture_output=True).stdout)

received = {}
pdf_written = False
for path in sorted(glob.glob(os.path.join(SINK, "*.eml"))):
    raw = open(path, "rb").read()
    env = json.load(open(path[:-4] + ".json"))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    mid = str(msg["Message-ID"] or "").strip()
    name = os.path.basename(path)
    if mid in received:
        fail(checks[0], "%s: duplicate %s" % (name, mid))
        continue
    received[mid] = True
    e = sent.get(mid)
    if e is None:
        fail(checks[0], "%s: unexpected Message-ID %r to %r" % (name, mid, env["rcpt_tos"]))
        continue
    if env["rcpt_tos"] != [e["recipient"]]:
        fail(checks[1], "%s: rcpt %r, expected %r" % (name, env["rcpt_tos"], e["recipient"]))
    if env["mail_from"] != expect["envelope_from"]:
        fail(checks[1], "%s: MAIL FROM %r" % (name, env["mail_from"]))
    # raw line discipline
    if re.search(rb"(?<!\r)\n", raw) or re.search(rb"\r(?!\n)", raw) or any(len(l) > 998 for l in raw.split(b"\r\n")):
        fail(checks[9], name)
    # headers
    try:
        date = email.utils.parsedate_to_datetime(str(msg["Date"]))
        ok_date = date is not None and date.tzinfo is not None
    except Exception:
        ok_date = False
    frm = msg["From"]
    if (str(msg["To"]) != e["recipient"] or str(msg["Subject"]) != e["subject"] or not ok_date
            or frm is None or frm.addresses[0].addr_spec != expect["envelope_from"]
            or frm.addresses[0].display_name != expect["from_name"]):
        fail(checks[2], "%s: To=%r Subject=%r (want %r) Date=%r From=%r" % (
            name, str(msg["To"]), str(msg["Subject"]), e["subject"], msg["Date"], str(frm)))
    if mid != "<%s@%s>" % (e["key"], expect["dkim_domain"]):
        fail(checks[3], "%s: %s" % (name, mid))
    lu = str(msg["List-Unsubscribe"] or "")
    want_url = expect["unsubscribe_url"].replace("{{key}}", urllib.parse.quote(e["key"], safe=""))
    if ("<%s>" % want_url) not in lu or "<mailto:" not in lu or \
            str(msg["List-Unsubscribe-Post"] or "") != "List-Unsubscribe=One-Click":
        fail(checks[4], "%s: %r / %r" % (name, lu, msg["List-Unsubscribe-Post"]))
    # structure
    parts = list(msg.iter_parts()) if msg.is_multipart() else []
    struct_ok = (msg.get_content_type() == "multipart/mixed" and len(parts) == 2
                 and parts[0].get_content_type() == "multipart/alternative"
                 and [p.get_content_type() for p in parts[0].iter_parts()] == ["text/plain", "text/html"])
    if not struct_ok:
        fail(checks[5], "%s: %s" % (name, [p.get_content_type() for p in msg.walk()]))
        continue
    text_part, html_part = list(parts[0].iter_parts())
    norm = lambda s: s.replace("\r\n", "\n")
    if norm(text_part.get_content()) != norm(e["text"]) or norm(html_part.get_content()) != norm(e["html"]):
        fail(checks[6], "%s: %r / %r" % (name, text_part.get_content()[:80], e["text"][:80]))
    att = parts[1]
    payload = att.get_content()
    fname = att.get_filename() or ""
    if (att.get_content_type() != e["att_type"] or att.get_content_disposition() != "attachment"
            or not fname.endswith(e["att_ext"]) or hashlib.sha256(payload).hexdigest() != e["att_sha256"]):
        fail(checks[7], "%s: %s %s %s" % (name, att.get_content_type(), fname, hashlib.sha256(payload).hexdigest()))
    if e["att_type"] == "application/pdf" and not pdf_written:
        open(os.path.join(WORK, "first.pdf"), "wb").write(payload)
        pdf_written = True
    why = dkim_verify(raw)
    if why:
        fail(checks[8], "%s: %s" % (name, why))
    if dkimpy is not None:
        if not dkimpy.verify(raw, dnsfunc=lambda name, timeout=5: DKIM_TXT):
            fail(checks[10], name)

missing = [m for m in sent if m not in received]
if missing:
    fail(checks[0], "not received: %s" % ", ".join(sorted(missing)[:10]))
print("INFO %d messages received, %d sent rows" % (len(received), len(sent)))
for c in checks:
    if c in failures:
        print("FAIL %s: %s" % (c, "; ".join(failures[c][:5])))
    else:
        print("PASS %s" % c)
