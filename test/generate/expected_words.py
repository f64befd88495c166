#!/usr/bin/python3
"""Independent expectation for the generated examples: the words each example's AFP must hold.

Computes, from examples/<name>/data.json alone (not from the generator), the words the template
prints, formats money and dates the way docs/templates.md specifies, and compares the multiset of
words with those of `bin/afp text` (argv[2]). Prints differences; exit 1 when they differ.
Usage: expected_words.py statement|invoice|letter TEXTFILE PAGES [pdf]
(text pages are separated by form feeds, as bin/afp text prints them). With "pdf" the words of a
PDF conversion are expected: the same plus the human-readable text of the Code 128 bar codes
(the invoice footer's, once per page; the template's "hri" defaults to true), which the PDF
draws as text and `bin/afp text` (PTOCA only) does not see.
"""
import json, sys, collections, os

PDF = []      # non-empty: expect the words of the PDF conversion (bar code HRI included)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def money_de(x):
    neg = x < 0
    s = "%.2f" % abs(x)
    whole, frac = s.split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return ("-" if neg else "") + ".".join(groups) + "," + frac + " €"


def money_gbp(x):
    return "£%s" % "{:,.2f}".format(x)


def ddmmyyyy(iso):
    y, m, d = iso[:10].split("-")
    return "%s.%s.%s" % (d, m, y)


def long_date(iso, us=False):
    y, m, d = iso[:10].split("-")
    if us:
        return "%s %d, %s" % (MONTHS[int(m) - 1], int(d), y)
    return "%d %s %s" % (int(d), MONTHS[int(m) - 1], y)


def statement(d, pages):
    a, c, s = d["account"], d["customer"], d["statement"]
    out = []
    for p in range(1, pages + 1):
        out += ["Musterbank AG", "Account statement " + s["number"], "IBAN " + a["iban"],
                "Page %d of %d" % (p, pages)]
    out += [c["name"], c["street"], c["city"], c["country"].upper(),
            "Statement date: " + ddmmyyyy(s["date"]),
            "Period: %s - %s" % (ddmmyyyy(s["from"]), ddmmyyyy(s["to"])),
            "Account statement",
            "Opening balance on %s: %s" % (long_date(s["from"]), money_de(s["opening"]))]
    # the header row is repeated on every page that holds transaction rows
    header = "Date Description Amount Balance"
    out += [header] * table_pages(d)
    for t in d["transactions"]:
        out.append("%s %s %s %s" % (ddmmyyyy(t["date"]), t["description"], money_de(t["amount"]),
                                    money_de(t["balance"])))
    out.append("Closing balance " + money_de(s["closing"]))
    out.append("Please check this statement. Objections must be raised within six weeks of receipt; "
               "after that the statement is deemed approved.")
    return out


TEXT_PAGES = []


def table_pages(d):
    """Pages of the extracted text that hold at least one transaction row; each of them must
    also start its table with the header row (checked here, not only counted)."""
    n = 0
    descs = [t["description"] for t in d["transactions"]]
    for page in TEXT_PAGES:
        page = " ".join(page.split())   # pdftotext -layout pads columns with blanks
        if any(" ".join(x.split()) in page for x in descs):
            n += 1
            if "Date Description Amount Balance" not in page:
                print("a page with transactions lacks the repeated header row")
                sys.exit(1)
    return n


def invoice(d, pages):
    c, i = d["customer"], d["invoice"]
    out = ["Stadtwerke Beispielstadt", "INVOICE", c["name"], c["street"], c["city"],
           "Invoice no. " + i["number"], "Customer no. " + c["number"], "Date " + ddmmyyyy(i["date"]),
           "Due " + ddmmyyyy(i["due"]), "Electricity and water, " + i["period"],
           "Item Quantity Unit price Amount"]
    for l in d["lines"]:
        out.append("%s %d %s %s %s" % (l["item"], round(l["qty"]), l["unit"], money_de(l["price"]),
                                       money_de(l["amount"])))
    out += ["Net " + money_de(i["net"]), "VAT 19 % " + money_de(i["vat"]),
            "Total due " + money_de(i["total"])]
    if i["direct_debit"]:
        out.append("The total of %s will be collected by direct debit on %s." % (money_de(i["total"]),
                                                                                 ddmmyyyy(i["due"])))
    else:
        out.append("Please transfer %s by %s quoting invoice no. %s." % (money_de(i["total"]),
                                                                       ddmmyyyy(i["due"]), i["number"]))
    for p in range(1, pages + 1):
        out.append("Page %d of %d" % (p, pages))
        if PDF:
            out.append(i["number"])             # footer bar code HRI
    return out


def letter(d, pages):
    c, p = d["customer"], d["policy"]
    out = ["Northwind Insurance", c["name"], c["address"], c["city"], long_date(d["date"], us=True),
           "Re: Your policy %s (%s)" % (p["number"], p["product"]), "Dear %s," % c["salutation"]]
    out += d["paragraphs"]
    if p.get("premium_change"):
        out.append("Your new annual premium is %s, effective %s." % (money_gbp(p["premium"]),
                                                                    long_date(p["effective"])))
    out += ["Yours sincerely,", d.get("agent", "Customer Service")]
    out += ["Northwind Insurance · 1 Harbour Road · Portsmouth"] * pages
    return out


def main():
    name, textfile, pages = sys.argv[1], sys.argv[2], int(sys.argv[3])
    PDF.extend([True] if len(sys.argv) > 4 and sys.argv[4] == "pdf" else [])
    data = json.load(open(os.path.join(ROOT, "examples", name, "data.json"), encoding="utf-8"))
    text = open(textfile, encoding="utf-8").read()
    TEXT_PAGES.extend(text.split("\f"))
    want = collections.Counter(" ".join({"statement": statement, "invoice": invoice,
                                         "letter": letter}[name](data, pages)).split())
    got = collections.Counter(text.split())
    if want == got:
        print("%s: %d words as expected" % (name, sum(want.values())))
        return 0
    print("%s: words differ" % name)
    print("  missing:", dict(want - got))
    print("  unexpected:", dict(got - want))
    return 1


sys.exit(main())
