#!/usr/bin/python3
"""scale_model.py — data and independent expectations of test/checks/64-delivery-scale.sh.

    /usr/bin/python3 scale_model.py gen WORKDIR N SEED
        writes WORKDIR/{customers,contacts,preferences,suppressions,documents}.csv (explicit ids,
        loaded with \\copy) and WORKDIR/model.json (the same data, for the check)
    /usr/bin/python3 scale_model.py check WORKDIR SINKDIR SIMDIR
        reads model.json, WORKDIR/t0 (now() of the dispatch transaction), WORKDIR/outbox.json,
        WORKDIR/suppressions_after.json, WORKDIR/checked_at and what the SMTP sink and the SMS
        simulator recorded; prints one "OK name" / "FAIL name :: detail" line per test and
        "INFO ..." lines.

The expected decision of every document is computed here from the rules in docs/delivery.md
(consent, channel order, verified and unsuppressed contact points, quiet hours in the customer's
time zone with defer/fallback, message templates), written separately from sql/082_afp_dispatch.sql:
Python's zoneinfo for local time, its own template renderer and its own MIME parsing.
"""
import csv
import datetime as dt
import email
import email.header
import email.policy
import glob
import hashlib
import json
import os
import random
import sys
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
ZONES = ["UTC", "Europe/London", "Europe/Zurich", "Europe/Helsinki", "Europe/Moscow", "Asia/Dubai",
         "Asia/Tehran", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai",
         "Asia/Tokyo", "Australia/Adelaide", "Australia/Sydney", "Pacific/Auckland", "Pacific/Chatham",
         "Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage",
         "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York",
         "America/Caracas", "America/St_Johns", "America/Sao_Paulo", "Atlantic/Azores", "Africa/Lagos",
         "Africa/Johannesburg", "Etc/GMT+12"]
# quiet hours as the check configures them (seeded times; push set to fallback by the check)
QUIET = {"sms": (dt.time(21, 0), dt.time(8, 0), "defer"), "push": (dt.time(21, 0), dt.time(8, 0), "fallback")}
FROM_ADDR = "statements@bank.example"
# the builtin templates (sql/078) and the check's own 'de' rows, restated here
TEMPLATES = {
    ("email", "*"): ("Your {{document_type}} is ready",
                     "Hello {{name}},\n\nyour {{document_type}} (document {{document_id}}) is attached.\n",
                     "<!DOCTYPE html><html><body><p>Hello {{name}},</p><p>your {{document_type}} (document "
                     "{{document_id}}) is attached.</p></body></html>"),
    ("sms", "*"): (None, "Your {{document_type}} is ready (document {{document_id}}).", None),
    ("push", "*"): ("New {{document_type}}", "Your {{document_type}} is ready.", None),
    ("email", "de"): ("Ihr {{document_type}} {{index.Month}} ist bereit",
                      "Hallo {{name}}\n\nKonto {{index.Account}}\n",
                      "<p>Hallo {{name}}</p><p>Konto {{index.Account}}</p>"),
    ("sms", "de"): (None, "Ihr {{document_type}} ist da, Konto {{index.Account}}.", None),
}


def quiet_state(channel, tz, now):
    """(quiet?, action, end of the quiet period as UTC datetime) for a channel at now."""
    if channel not in QUIET:
        return False, None, None
    start, end, action = QUIET[channel]
    local = now.astimezone(ZoneInfo(tz))
    t = local.time().replace(tzinfo=None)
    quiet = (start <= t or t < end) if start > end else (start <= t < end)
    day = local.date() + (dt.timedelta(days=1) if t >= end else dt.timedelta(0))
    ends = dt.datetime.combine(day, end, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    return quiet, action, ends


def minutes_to_boundary(tz, now):
    """Minutes from now to the nearest quiet-hours boundary (21:00 or 08:00 local)."""
    local = now.astimezone(ZoneInfo(tz))
    m = local.hour * 60 + local.minute + local.second / 60.0
    return min(min(abs(m - b), 1440 - abs(m - b)) for b in (21 * 60, 8 * 60))


def render(tpl, vars_, html=False):
    """{{key}} -> value (HTML-escaped when html); unknown placeholders vanish."""
    if tpl is None:
        return None
    out, i = "", 0
    while True:
        j = tpl.find("{{", i)
        if j < 0:
            return out + tpl[i:]
        k = tpl.find("}}", j)
        if k < 0:
            return out + tpl[i:]
        v = vars_.get(tpl[j + 2:k], "")
        if html:
            v = (v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                 .replace('"', "&quot;").replace("'", "&#39;"))
        out += tpl[i:j] + v
        i = k + 2


def gen(work, n, seed):
    """Generates the customers and everything around them."""
    rnd = random.Random(seed)
    now = dt.datetime.now(UTC)
    push_worker = os.environ.get("AFP_PUSH_WORKER") == "1"
    customers, contacts, prefs, supps, docs = [], [], [], [], []
    cpid = 0
    used_email = set()
    for i in range(1, n + 1):
        tz = rnd.choice(ZONES)
        locale = rnd.choice(["en"] * 6 + ["de", "de-CH", "fr"])
        name = rnd.choice(["Customer %d" % i, "Zoë Ñandú %d" % i, "Müller & Söhne <%d>" % i, "O'Brien %d" % i])
        customers.append({"id": i, "external_id": "c%05d" % i, "name": name, "locale": locale, "tz": tz})
        # preferences
        r = rnd.random()
        orders = [["email"], ["sms"], ["email", "sms"], ["sms", "email"], ["push", "sms", "email"], ["push", "email"]]
        if r < 0.05:
            pass                                        # no preference: no consent
        elif r < 0.12:
            prefs.append({"customer_id": i, "document_type": "*", "channels": rnd.choice(orders), "opt_in": False})
        else:
            prefs.append({"customer_id": i, "document_type": "*", "channels": rnd.choice(orders), "opt_in": True})
        dtype = "invoice" if rnd.random() < 0.12 else "statement"
        if dtype == "invoice" and rnd.random() < 0.6:
            prefs.append({"customer_id": i, "document_type": "invoice", "channels": rnd.choice(orders),
                          "opt_in": rnd.random() < 0.7})
        # email contact points
        def add(channel, address, verified, platform=None):
            nonlocal cpid
            cpid += 1
            contacts.append({"id": cpid, "customer_id": i, "channel": channel, "address": address,
                             "verified": verified, "platform": platform})
        r = rnd.random()
        if r < 0.88:
            kind = rnd.random()
            local = ("bounce.c%d" % i if kind < 0.01 else "reject.c%d" % i if kind < 0.015
                     else rnd.choice(["c%d" % i, "C%d.Mixed" % i, "first.last%d" % i]))
            addr = "%s@%s" % (local, rnd.choice(["example.test", "mail.example.test", "Example.TEST"]))
            if rnd.random() < 0.05:
                add("email", "old.c%d@example.test" % i, False)   # older, unverified: skipped
            add("email", addr, rnd.random() >= 0.05)
            if rnd.random() < 0.03:
                add("email", "second.c%d@example.test" % i, True)  # newer verified: not used
            used_email.add(addr)
            s = rnd.random()
            if s < 0.04:
                supps.append({"channel": "email", "address": addr.upper() if rnd.random() < 0.5 else addr,
                              "reason": rnd.choice(["hard_bounce", "complaint", "unsubscribe", "manual"]),
                              "created_days": -10, "expires_days": None if rnd.random() < 0.7 else 30})
            elif s < 0.07:
                supps.append({"channel": "email", "address": addr, "reason": "complaint",
                              "created_days": -40, "expires_days": -1})
        # sms contact point
        if rnd.random() < 0.7:
            last = "4" if rnd.random() < 0.01 else rnd.choice("015678")
            number = "+1555%07d%s" % (i, last)
            add("sms", number, rnd.random() >= 0.05)
            s = rnd.random()
            if s < 0.03:
                supps.append({"channel": "sms", "address": number, "reason": "unsubscribe",
                              "created_days": -5, "expires_days": None})
            elif s < 0.05:
                supps.append({"channel": "sms", "address": number, "reason": "manual",
                              "created_days": -20, "expires_days": -2})
        # push tokens "<platform>-<scenario>-<n>" (push_sim.js scenarios: 2 % unregistered, 3 %
        # 429 + Retry-After once, 17 % 500 once); without a push worker only where push is sure to
        # be quiet (fallback) or unverified, so no push row can be chosen
        if rnd.random() < 0.3:
            platform = rnd.choice(["ios", "android"])
            if push_worker:
                r = rnd.random()
                sc = "unreg" if r < 0.02 else "r429" if r < 0.05 else "r500" if r < 0.22 else "ok"
                verified = rnd.random() >= 0.1
            else:
                quiet, _, _ = quiet_state("push", tz, now)
                sc, verified = "ok", quiet and minutes_to_boundary(tz, now) > 20
            add("push", "%s-%s-%d" % (platform, sc, i), verified, platform)
        # the document
        afp = b"\x5a" + rnd.randbytes(rnd.randint(20, 120))
        pdf = None
        if rnd.random() < 0.3:
            pdf = b"%PDF-1.4\n% document " + str(i).encode() + b"\n" + rnd.randbytes(40) + b"\n%%EOF\n"
        docs.append({"id": i, "customer_id": i, "document_type": dtype, "afp": afp.hex(),
                     "pdf": pdf.hex() if pdf else None,
                     "index": {"Account": "CH-%05d" % i, "Month": "2026-%02d" % (1 + i % 12)}})
    with open(os.path.join(work, "customers.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for c in customers:
            w.writerow([c["id"], c["external_id"], c["name"], c["locale"], c["tz"]])
    with open(os.path.join(work, "contacts.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for c in contacts:
            w.writerow([c["id"], c["customer_id"], c["channel"], c["address"], c["platform"] or "",
                        "t" if c["verified"] else "f"])
    with open(os.path.join(work, "preferences.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for p in prefs:
            w.writerow([p["customer_id"], p["document_type"], "{" + ",".join(p["channels"]) + "}",
                        "t" if p["opt_in"] else "f", "scale-test"])
    with open(os.path.join(work, "suppressions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for s in supps:
            w.writerow([s["channel"], s["address"], s["reason"], s["created_days"],
                        "" if s["expires_days"] is None else s["expires_days"]])
    with open(os.path.join(work, "documents.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for d in docs:
            w.writerow([d["id"], d["customer_id"], d["document_type"], "\\x" + d["afp"],
                        "" if d["pdf"] is None else "\\x" + d["pdf"], json.dumps(d["index"])])
    json.dump({"customers": customers, "contacts": contacts, "prefs": prefs, "supps": supps, "docs": docs,
               "generated_at": now.isoformat()}, open(os.path.join(work, "model.json"), "w"))


class Rules:
    """The model's data, indexed, and the decision rules of docs/delivery.md."""

    def __init__(self, model, supp_created):
        self.cust = {c["id"]: c for c in model["customers"]}
        self.prefs = {(p["customer_id"], p["document_type"]): p for p in model["prefs"]}
        self.contacts = {}
        for c in sorted(model["contacts"], key=lambda c: c["id"]):
            self.contacts.setdefault((c["customer_id"], c["channel"]), []).append(c)
        self.supps = [(s["channel"], s["address"].lower(),
                       None if s["expires_days"] is None else supp_created + dt.timedelta(days=s["expires_days"]))
                      for s in model["supps"]]
        self.docs = {d["id"]: d for d in model["docs"]}

    def suppressed(self, ch, address, now):
        """True while a suppression of the address on the channel is active."""
        return any(c == ch and a == address.lower() and (e is None or e > now) for c, a, e in self.supps)

    def pref(self, d):
        """The preference row that applies to document d (type row, else '*'), or None."""
        c = self.cust[d["customer_id"]]
        return self.prefs.get((c["id"], d["document_type"])) or self.prefs.get((c["id"], "*"))

    def candidate(self, d, ch, now):
        """Expected row for document d on channel ch at now, or None when ch is not usable."""
        c = self.cust[d["customer_id"]]
        usable = [cp for cp in self.contacts.get((c["id"], ch), [])
                  if cp["verified"] and not self.suppressed(ch, cp["address"], now)]
        if not usable:
            return None
        quiet, action, ends = quiet_state(ch, c["tz"], now)
        if quiet and action == "fallback":
            return None
        lang = c["locale"].replace("_", "-").split("-")[0]
        tpl = TEMPLATES.get((ch, c["locale"])) or TEMPLATES.get((ch, lang)) or TEMPLATES.get((ch, "*"))
        vars_ = {"name": c["name"], "external_id": c["external_id"], "tenant": "default",
                 "locale": c["locale"], "document_type": d["document_type"], "document_id": str(d["id"])}
        vars_.update({"index." + k: v for k, v in d["index"].items()})
        if ch == "email":
            payload = {"subject": render(tpl[0], vars_), "text": render(tpl[1], vars_),
                       "html": render(tpl[2], vars_, True)}
        elif ch == "push":
            payload = {"title": render(tpl[0], vars_), "body": render(tpl[1], vars_), "platform": usable[0]["platform"]}
        else:
            payload = {"text": render(tpl[1], vars_)}
        return {"doc": d["id"], "channel": ch, "recipient": usable[0]["address"],
                "deferred_until": ends if (quiet and action == "defer") else None,
                "payload": payload, "key": "doc%d.%s" % (d["id"], ch), "fallback_of": None}

    def primary(self, d, now):
        """Dispatch: consent, then the first usable channel in preference order."""
        p = self.pref(d)
        if p is None or not p["opt_in"]:
            return None
        for ch in p["channels"]:
            e = self.candidate(d, ch, now)
            if e:
                return e
        return None

    def fallback(self, d, failed, used, now):
        """Channel fallback after a permanent failure on channel failed: the channels after it in
        preference order first, then the earlier ones, skipping channels used for the document."""
        p = self.pref(d)
        if p is None or not p["opt_in"]:
            return None
        pos = p["channels"].index(failed) + 1 if failed in p["channels"] else 0
        order = sorted(enumerate(p["channels"], 1), key=lambda x: (not x[0] > pos, x[0]))
        for _, ch in order:
            if ch == failed or ch in used:
                continue
            e = self.candidate(d, ch, now)
            if e:
                return e
        return None


def permanent(e):
    """True when the sinks answer this recipient with a permanent error (bounce/reject/400)."""
    if e["channel"] == "email":
        return e["recipient"].split("@")[0].lower().startswith(("bounce", "reject"))
    if e["channel"] == "push":
        return "-unreg-" in e["recipient"]
    return e["channel"] == "sms" and e["recipient"].endswith("4")


def ts(s):
    """Parses a PostgreSQL timestamptz (ISO, as to_json writes it)."""
    return dt.datetime.fromisoformat(s)


def check(work, sinkdir, simdir, pushdir=None):
    """Compares the outbox and both sinks with the expectations; prints OK/FAIL lines."""
    model = json.load(open(os.path.join(work, "model.json")))
    now = ts(open(os.path.join(work, "t0")).read().strip())
    rules = Rules(model, ts(open(os.path.join(work, "t_load")).read().strip()))
    checked_at = ts(open(os.path.join(work, "checked_at")).read().strip())
    all_rows = json.load(open(os.path.join(work, "outbox.json")))
    rows = {(r["document_id"], r["channel"]): r for r in all_rows}
    by_id = {r["id"]: r for r in all_rows}
    supp_after = json.load(open(os.path.join(work, "suppressions_after.json")))
    docs = rules.docs

    def result(name, bad, total=None, detail=None):
        ok = not bad
        print(("OK " if ok else "FAIL ") + name + ("" if ok else " :: %s%s" % (
            ("%d of %d: " % (len(bad), total)) if total is not None else "", str(detail or bad[:5])[:600])))

    # expected rows: dispatch at t0, then a fallback row for every permanent failure, decided at
    # the time the failed row turned dead (its updated_at)
    exp = {}
    for d in sorted(docs):
        e = rules.primary(docs[d], now)
        if e:
            exp[(d, e["channel"])] = e
    queue = [k for k in exp if permanent(exp[k])]
    while queue:
        k = queue.pop()
        r = rows.get(k)
        if r is None or r["status"] != "dead":
            continue
        used = {ch for (dd, ch) in exp if dd == k[0]}
        f = rules.fallback(docs[k[0]], k[1], used, ts(r["updated_at"]))
        if f:
            f["fallback_of"] = k
            exp[(k[0], f["channel"])] = f
            if permanent(f):
                queue.append((k[0], f["channel"]))
    chans = {}
    for e in exp.values():
        k = e["channel"] + ("/deferred" if e["deferred_until"] else "") + ("/fallback" if e["fallback_of"] else "")
        chans[k] = chans.get(k, 0) + 1
    chans["no message"] = len(docs) - len({d for d, _ in exp})
    print("INFO expected rows: " + ", ".join("%s %d" % kv for kv in sorted(chans.items())))

    # 1. the decision of every document
    missing = [k for k in exp if k not in rows]
    extra = [k for k in rows if k not in exp]
    result("a row exactly where the rules say (dispatch and channel fallback)", missing + extra, len(exp),
           {"missing": missing[:5], "unexpected": [(k, rows[k]["recipient"], rows[k]["status"]) for k in extra[:5]]})
    both = [k for k in exp if k in rows]
    bad = [k for k in both if rows[k]["recipient"] != exp[k]["recipient"]]
    result("recipient of every row", bad, len(both), [(k, rows[k]["recipient"], exp[k]["recipient"]) for k in bad[:5]])
    bad = [k for k in both if rows[k]["payload"] != exp[k]["payload"]]
    result("payload rendered from the templates (locale, index values, HTML escaping)", bad, len(both),
           [(k, rows[k]["payload"], exp[k]["payload"]) for k in bad[:2]])
    bad = [k for k in both if rows[k]["idempotency_key"] != exp[k]["key"]]
    result("idempotency keys doc<id>.<channel>", bad, len(both))
    fbs = [k for k in both if exp[k]["fallback_of"]]
    if all_rows and "fallback_of" in all_rows[0]:
        bad = [k for k in both if (rows[k]["fallback_of"] is None) != (exp[k]["fallback_of"] is None)
               or (exp[k]["fallback_of"] and rows[k]["fallback_of"] != rows.get(exp[k]["fallback_of"], {}).get("id"))]
        result("fallback rows linked to the failed row (fallback_of)", bad, len(both))
    deferred = [k for k in both if exp[k]["deferred_until"] is not None]
    first = lambda k: rows[k]["first_next_attempt_at"] or rows[k]["next_attempt_at"]
    bad = [k for k in deferred if (exp[k]["fallback_of"] is None or rows[k]["attempts"] == 0)
           and abs((ts(first(k)) - exp[k]["deferred_until"]).total_seconds()) > 0.001]
    result("quiet hours (defer): next_attempt_at = the next local 08:00", bad, len(deferred),
           [(k, first(k), exp[k]["deferred_until"].isoformat()) for k in bad[:5]])
    bad = [k for k in deferred if exp[k]["deferred_until"] > checked_at and ts(rows[k]["next_attempt_at"]) != ts(first(k))]
    result("deferred rows still wait for the end of quiet hours at the end", bad, len(deferred))
    nodefer = [k for k in both if exp[k]["deferred_until"] is None and not exp[k]["fallback_of"]]
    bad = [k for k in nodefer if ts(first(k)) > now]
    result("rows outside quiet hours were due at dispatch", bad, len(nodefer))
    print("INFO %d deferred rows; %d of them due before the check; %d fallback rows" % (
        len(deferred), sum(1 for k in deferred if exp[k]["deferred_until"] <= checked_at), len(fbs)))

    # 2. final states
    def final_ok(k):
        r, until = rows[k], exp[k]["deferred_until"]
        if until is not None and until > checked_at:
            return r["status"] == "queued" and r["attempts"] == 0
        if until is not None and until > checked_at - dt.timedelta(seconds=30):
            return True
        return r["status"] == "sent" or (r["status"] == "dead" and (r["last_error"] or "") != "")
    bad = [k for k in both if not final_ok(k)]
    result("every row sent or dead with a reason (future deferred rows queued, untouched)", bad, len(both),
           [(k, rows[k]["status"], rows[k]["attempts"], rows[k]["last_error"]) for k in bad[:5]])

    def local_of(k):
        return exp[k]["recipient"].split("@")[0].lower()
    emails = [k for k in both if k[1] == "email"]
    bounce = [k for k in emails if local_of(k).startswith("bounce")]
    reject = [k for k in emails if local_of(k).startswith("reject")]
    normal = [k for k in emails if k not in bounce and k not in reject]
    bad = [k for k in bounce if (rows[k]["status"], rows[k]["last_code"], rows[k]["attempts"]) != ("dead", "550 5.1.1", 1)]
    result("550 5.1.1 -> dead after one attempt", bad, len(bounce), [(k, rows[k]["status"], rows[k]["last_code"]) for k in bad[:3]])
    hb = {(s["address"].lower(), s["outbox_id"]) for s in supp_after if s["reason"] == "hard_bounce" and s["channel"] == "email"}
    bad = [k for k in bounce if (exp[k]["recipient"].lower(), rows[k]["id"]) not in hb]
    result("550 5.1.1 -> hard_bounce suppression pointing at the message", bad, len(bounce))
    bad = [k for k in reject if (rows[k]["status"], rows[k]["last_code"]) != ("dead", "554 5.7.1")
           or any(s["outbox_id"] == rows[k]["id"] for s in supp_after)]
    result("554 5.7.1 -> dead, no suppression", bad, len(reject))
    bad = [k for k in normal if rows[k]["status"] != "sent"]
    result("every other email sent (transient faults retried)", bad, len(normal),
           [(k, rows[k]["status"], rows[k]["attempts"], rows[k]["last_error"]) for k in bad[:5]])
    print("INFO emails: %d rows (%d fallback), %d bounce, %d reject" % (
        len(emails), sum(1 for k in emails if exp[k]["fallback_of"]), len(bounce), len(reject)))

    # 3. the SMTP sink: exactly the sent emails, once each, with the right content
    faults, rcpts = {}, {}
    for line in open(os.path.join(sinkdir, "attempts.log")):
        p = line.split()
        if p[0] == "FAULT":
            faults[p[1].lower()] = p[2]
        elif p[0] == "RCPT":
            rcpts.setdefault(p[1].lower(), []).append(p[2])
    got = {}
    for path in sorted(glob.glob(os.path.join(sinkdir, "*.eml"))):
        msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
        meta = json.load(open(path[:-4] + ".json"))
        got.setdefault(str(msg["Message-ID"]), []).append((msg, meta))
    by_mid = {"<%s@bank.example>" % exp[k]["key"]: k for k in normal}
    result("each message at the SMTP sink once", [m for m, v in got.items() if len(v) != 1], len(got))
    result("no unexpected message at the SMTP sink", [m for m in got if m not in by_mid], len(got))
    result("every sent email at the SMTP sink", [m for m in by_mid if m not in got], len(by_mid))
    bad = []
    for mid, k in by_mid.items():
        if mid not in got:
            continue
        msg, meta = got[mid][0]
        e, doc = exp[k], docs[k[0]]
        problems = []
        if meta["rcpt_tos"] != [e["recipient"]]:
            problems.append("envelope %s" % meta["rcpt_tos"])
        if meta["mail_from"] != FROM_ADDR:
            problems.append("mail from %s" % meta["mail_from"])
        if str(msg["To"]).strip() != e["recipient"]:
            problems.append("To %s" % msg["To"])
        if str(msg["Subject"]) != e["payload"]["subject"]:
            problems.append("Subject %r" % str(msg["Subject"]))
        if rows[k]["provider_message_id"] != mid:
            problems.append("provider_message_id %s" % rows[k]["provider_message_id"])
        body = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        if body is None or body.get_content().replace("\r\n", "\n") != e["payload"]["text"]:
            problems.append("text part")
        if html is None or html.get_content().replace("\r\n", "\n") != e["payload"]["html"]:
            problems.append("html part")
        atts = list(msg.iter_attachments())
        want = bytes.fromhex(doc["pdf"] or doc["afp"])
        name = "%s-%d.%s" % (doc["document_type"], k[0], "pdf" if doc["pdf"] else "afp")
        ctype = "application/pdf" if doc["pdf"] else "application/vnd.ibm.modcap"
        if len(atts) != 1 or atts[0].get_content() != want or atts[0].get_filename() != name \
                or atts[0].get_content_type() != ctype:
            problems.append("attachment")
        if problems:
            bad.append((k, problems))
    result("sink messages: envelope, To, Subject, text, HTML, attachment bytes, Message-ID", bad, len(by_mid))
    flt = [k for k in normal if exp[k]["recipient"].lower() in faults]
    share = len(flt) / max(1, len(normal))
    print("INFO SMTP faults injected: %d of %d sent emails (%.1f %%): %d at RCPT (451), %d after DATA (452)" % (
        len(flt), len(normal), 100 * share, sum(1 for k in flt if faults[exp[k]["recipient"].lower()] == "451"),
        sum(1 for k in flt if faults[exp[k]["recipient"].lower()] == "452")))
    result("about 20 %% of the emails got a transient fault (%.1f %%)" % (100 * share),
           [] if 0.15 <= share <= 0.25 else [share])
    bad = [k for k in flt if rows[k]["attempts"] != 2 or rows[k]["status"] != "sent"]
    result("faulted emails: sent on the second attempt", bad, len(flt),
           [(k, rows[k]["status"], rows[k]["attempts"]) for k in bad[:5]])
    bad = [k for k in normal if exp[k]["recipient"].lower() not in faults and rows[k]["attempts"] != 1]
    result("other emails: one attempt", bad, len(normal))
    bad = [k for k in bounce if rcpts.get(exp[k]["recipient"].lower()) != ["550"]]
    result("bounced addresses tried once at the sink", bad, len(bounce))

    # 4. the SMS simulator
    reqs = [json.loads(l) for l in open(os.path.join(simdir, "requests.jsonl"))]
    by_key = {}
    for r in reqs:
        by_key.setdefault(r["key"], []).append(r)
    smss = [k for k in both if k[1] == "sms"]
    due = [k for k in smss if exp[k]["deferred_until"] is None or exp[k]["deferred_until"] <= checked_at - dt.timedelta(seconds=30)]
    future = [k for k in smss if exp[k]["deferred_until"] is not None and exp[k]["deferred_until"] > checked_at]
    perm = [k for k in due if permanent(exp[k])]
    ok_due = [k for k in due if k not in perm]
    bad = [k for k in ok_due if rows[k]["status"] != "sent" or rows[k]["provider_message_id"] != "SM" + hashlib.md5(exp[k]["key"].encode()).hexdigest()]
    result("due SMS sent, provider_message_id = the simulator's sid", bad, len(ok_due),
           [(k, rows[k]["status"], rows[k]["attempts"], rows[k]["last_error"]) for k in bad[:5]])
    bad = [k for k in perm if rows[k]["status"] != "dead" or not (rows[k]["last_code"] or "").startswith("400") or rows[k]["attempts"] != 1]
    result("SMS 400 -> dead after one attempt", bad, len(perm), [(k, rows[k]["status"], rows[k]["last_code"]) for k in bad[:3]])
    result("no request for SMS deferred by quiet hours", [k for k in future if exp[k]["key"] in by_key], len(future))
    keys = {exp[k]["key"] for k in smss}
    result("no request for an unknown key", [r["key"] for r in reqs if r["key"] not in keys], len(reqs))
    bad = []
    for k in due:
        acc = [r for r in by_key.get(exp[k]["key"], []) if r["status"] in (201, 400)]
        if len(acc) != 1 or acc[0]["form"].get("To") != exp[k]["recipient"] or \
                acc[0]["form"].get("Body") != exp[k]["payload"]["text"] or acc[0]["form"].get("From") != "+15005550006":
            bad.append((k, [(r["status"], r["form"].get("To")) for r in by_key.get(exp[k]["key"], [])]))
    result("every due SMS answered once (201/400) with To, From, Body as the rules say", bad, len(due))
    flt = [k for k in ok_due if any(r.get("fault") for r in by_key.get(exp[k]["key"], []))]
    n429 = [k for k in flt if by_key[exp[k]["key"]][0]["status"] == 429]
    share = len(flt) / max(1, len(ok_due))
    print("INFO SMS faults injected: %d of %d (%.1f %%): %d 429 with Retry-After, %d 500" % (
        len(flt), len(ok_due), 100 * share, len(n429), len(flt) - len(n429)))
    result("about 20 %% of the SMS got a transient fault (%.1f %%)" % (100 * share), [] if 0.15 <= share <= 0.25 else [share])
    bad = [k for k in flt if len(by_key[exp[k]["key"]]) != 2 or rows[k]["attempts"] != 2]
    result("faulted SMS: exactly two requests, sent on the second attempt", bad, len(flt),
           [(k, [r["status"] for r in by_key[exp[k]["key"]]], rows[k]["attempts"]) for k in bad[:5]])
    gaps = []
    for k in n429:
        a, b = by_key[exp[k]["key"]][:2]
        gaps.append((b["t"] - a["t"] - a["retry_after"], k))
    result("Retry-After respected: second request >= Retry-After after the 429", [g for g in gaps if g[0] < 0], len(gaps))
    if gaps:
        print("INFO 429 retries: second request %.2f..%.2f s after Retry-After expired" % (
            min(g[0] for g in gaps), max(g[0] for g in gaps)))

    # 5. the push simulator (FCM for android, APNs for ios)
    pushes = [k for k in both if k[1] == "push"]
    if pushdir is None:
        result("no push row without a push worker", pushes, len(both))
        return
    preqs = [json.loads(l) for l in open(os.path.join(pushdir, "requests.jsonl"))
             if '"svc":"fcm"' in l.replace(" ", "") or '"svc":"apns"' in l.replace(" ", "")]
    by_pkey = {}
    for r in preqs:
        by_pkey.setdefault(r.get("data_key"), []).append(r)
    perm_p = [k for k in pushes if permanent(exp[k])]
    ok_p = [k for k in pushes if k not in perm_p]
    svc = lambda k: "apns" if exp[k]["payload"]["platform"] == "ios" else "fcm"
    bad = [k for k in ok_p if rows[k]["status"] != "sent"]
    result("push rows sent (transient faults retried)", bad, len(ok_p),
           [(k, rows[k]["status"], rows[k]["attempts"], rows[k]["last_error"]) for k in bad[:5]])
    bad = [k for k in ok_p if [r["token"] for r in by_pkey.get(exp[k]["key"], []) if r["status"] == 200] != [exp[k]["recipient"]]
           or any(r["svc"] != svc(k) or not r["auth_ok"] for r in by_pkey.get(exp[k]["key"], []))]
    result("every push accepted once, by the platform's service, token as the rules say, authenticated", bad, len(ok_p),
           [(k, [(r["svc"], r["status"], r["token"]) for r in by_pkey.get(exp[k]["key"], [])]) for k in bad[:3]])
    flt = [k for k in ok_p if "-r429-" in exp[k]["recipient"] or "-r500-" in exp[k]["recipient"]]
    bad = [k for k in flt if len(by_pkey.get(exp[k]["key"], [])) != 2 or rows[k]["attempts"] != 2]
    result("faulted pushes (429 / 500 once): two requests, sent on the second attempt", bad, len(flt),
           [(k, [r["status"] for r in by_pkey.get(exp[k]["key"], [])], rows[k]["attempts"]) for k in bad[:3]])
    gaps = [(v[1]["t"] - v[0]["t"], k) for k in flt if "-r429-" in exp[k]["recipient"]
            for v in [by_pkey.get(exp[k]["key"], [])] if len(v) == 2]
    result("push Retry-After (2 s) respected", [g for g in gaps if g[0] < 2.0], len(gaps))
    bad = [k for k in perm_p if rows[k]["status"] != "dead" or not (rows[k]["last_code"] or "").startswith(("404", "410"))
           or not any(s["channel"] == "push" and s["address"] == exp[k]["recipient"] for s in supp_after)]
    result("unregistered tokens: dead (404 UNREGISTERED / 410) + suppression", bad, len(perm_p),
           [(k, rows[k]["status"], rows[k]["last_code"]) for k in bad[:3]])
    keys = {exp[k]["key"] for k in pushes}
    result("no push request for an unknown key", [r["data_key"] for r in preqs if r["data_key"] not in keys], len(preqs))
    print("INFO push: %d rows (%d fallback), %d faulted once, %d unregistered" % (
        len(pushes), sum(1 for k in pushes if exp[k]["fallback_of"]), len(flt), len(perm_p)))

if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
