"""Compares an email backlog drained across a Patroni failover or switchover with what reached
the SMTP sink (test/delivery/smtp_sink.py). Run with /usr/bin/python3 by
test/checks/67-delivery-patroni.sh:

    patroni_sink_check.py TAG SINKDIR ROWS_JSON DISPATCHED_KEYS SENT_BEFORE_KEYS MAX_DUPLICATES

ROWS_JSON: the round's outbox rows read from the new leader after the drain (json array of
{key, status, attempts, recipient, subject, pmid, aborted}); DISPATCHED_KEYS: the idempotency keys that
afp_dispatch_bulk returned on the old leader (one a line); SENT_BEFORE_KEYS: the keys that were
already 'sent' on the synchronous standby just before the leader went away (one a line);
MAX_DUPLICATES: how many messages may be sent more than once (the worker's batch size: only the
rows of the batch in flight on the old leader can have been accepted without being recorded).
SINKDIR holds only this round's messages. Prints "OK TAG: what", "FAIL TAG: what :: detail" and
"INFO ..." lines.
"""
import email
import email.policy
import glob
import json
import os
import sys

tag, sink, rows_path, dispatched_path, before_path, max_dups = sys.argv[1:7]


def check(name, ok, detail=""):
    """Prints one OK/FAIL line."""
    print(("OK " if ok else "FAIL ") + tag + ": " + name + ("" if ok else " :: " + str(detail)[:500]))


def keys(path):
    """The set of non-empty lines of a file."""
    return {l.strip() for l in open(path) if l.strip()}


rows = json.load(open(rows_path)) or []
by_key = {r["key"]: r for r in rows}
dispatched = keys(dispatched_path)
before = keys(before_path)

mail = {}
for path in sorted(glob.glob(os.path.join(sink, "*.eml"))):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    env = json.load(open(path[:-4] + ".json"))
    body = m.get_body(("plain",))
    mail.setdefault(str(m["Message-ID"]), []).append(
        (str(m["To"]), str(m["Subject"]), tuple(env["rcpt_tos"]), body.get_content() if body else None))

mid = {"<%s@bank.example>" % k: k for k in by_key}

check("every dispatched row is on the new leader, and nothing else (%d rows)" % len(dispatched),
      dispatched and set(by_key) == dispatched,
      {"lost": sorted(dispatched - set(by_key))[:5], "extra": sorted(set(by_key) - dispatched)[:5]})
check("every outbox row ends 'sent' on the new leader",
      rows and all(r["status"] == "sent" for r in rows),
      [(r["key"], r["status"], r["attempts"]) for r in rows if r["status"] != "sent"][:5])
check("provider_message_id = Message-ID", all(r["pmid"] == "<%s@bank.example>" % k for k, r in by_key.items()),
      [(k, r["pmid"]) for k, r in by_key.items() if r["pmid"] != "<%s@bank.example>" % k][:5])
check("every message reached the sink at least once", all(m in mail for m in mid),
      [k for m, k in mid.items() if m not in mail][:5])
check("nothing at the sink that is not in the outbox", all(m in mid for m in mail),
      [m for m in mail if m not in mid][:5])
dups = {m: v for m, v in mail.items() if len(v) > 1 and m in mid}
check("copies identical: same Message-ID, To, Subject, envelope recipient, text",
      all(len(set(v)) == 1 and v[0][0] == by_key[mid[m]]["recipient"] and v[0][2] == (by_key[mid[m]]["recipient"],)
          and v[0][1] == by_key[mid[m]]["subject"] for m, v in mail.items() if m in mid),
      [(m, v) for m, v in mail.items() if m in mid and len(set(v)) != 1][:2])
resent_before = [k for k in before if len(mail.get("<%s@bank.example>" % k, [])) != 1]
check("%d rows already 'sent' on the standby before the switch reached the sink exactly once" % len(before),
      before <= dispatched and not resent_before, resent_before[:5])
# a copy means an attempt whose result was not recorded: a claim the dead leader never recorded
# (attempts >= 2 here) or one a stopping worker gave back uncounted (an 'aborted' event)
check("every duplicate was claimed again (attempts >= 2 or an 'aborted' attempt recorded)",
      all(by_key[mid[m]]["attempts"] >= 2 or by_key[mid[m]]["aborted"] > 0 for m in dups),
      [(mid[m], by_key[mid[m]]["attempts"], by_key[mid[m]]["aborted"]) for m in dups
       if by_key[mid[m]]["attempts"] < 2 and by_key[mid[m]]["aborted"] == 0][:5])
check("at most %s messages sent more than once, each at most twice" % max_dups,
      len(dups) <= int(max_dups) and all(len(v) <= 2 for v in dups.values()),
      sorted((mid[m], len(v)) for m, v in dups.items())[:10])
print("INFO %s: %d rows, %d messages at the sink, %d sent more than once (%d copies in all), "
      "%d already sent before the switch, %d claimed again (attempts >= 2), %d with an aborted attempt"
      % (tag, len(rows), sum(len(v) for v in mail.values()), len(dups), sum(len(v) for v in dups.values()),
         len(before), sum(1 for r in rows if r["attempts"] >= 2), sum(1 for r in rows if r["aborted"] > 0)))
