#!/usr/bin/env python3
"""Writes an AFP file (argv[1]) with one BCOCA bar code object per page and prints, per page,
"KIND<TAB>EXPECTED": the symbology and the data zbarimg must decode, or "-<TAB>NAME" for a
symbology zbar cannot read (the check then only looks for dark modules).

Structure per object (bcoca-reference-11 Appendix B, as core/afp_bcoca.c writes it):
BBC BOG OBD OBP MBC BDD EOG BDA EBC, units 1440 per inch, object area at (1 in, 1 in), symbol
origin at (0.2 in, 0.2 in) in the area. BDD (Table 8) and BDA (Table 20) built field by field;
linear data in EBCDIC (CP500; Code 128 CP037 = code page 1303's printable positions), 2D data
as bytes with the control flags of Tables 23, 30 and 31 (the QR UTF-8 case through the ECI
escape "\\000026" with escape processing on)."""
import struct
import sys


def sf(sfid, data=b""):
    """One structured field: X'5A', length, identifier, flags, sequence, data."""
    return b"\x5a" + struct.pack(">H", 8 + len(data)) + sfid.to_bytes(3, "big") + b"\0\0\0" + data


def name(s):
    return s.ljust(8).encode("cp500")


def barcode(btype, mod, data, flags=0x80, special=b"", module=20, elem=0xFFFF):
    obd = bytes([3, 0x43, 1]) + bytes([8, 0x4B, 0, 0]) + struct.pack(">HH", 14400, 14400)
    obd += bytes([9, 0x4C, 2]) + (8000).to_bytes(3, "big") + (8000).to_bytes(3, "big")
    obp = bytes([1, 23]) + (1440).to_bytes(3, "big") + (1440).to_bytes(3, "big")
    obp += b"\x00\x00\x2d\x00\x00" + b"\0" * 6 + b"\x00\x00\x2d\x00\x01"
    mbc = bytes([0, 5, 3, 0x04, 0x00])
    bdd = bytes([0, 0]) + struct.pack(">HHHHH", 14400, 14400, 8000, 8000, 0)
    bdd += bytes([btype, mod, 0xFF]) + struct.pack(">H", 0xFF07) + bytes([module])
    bdd += struct.pack(">H", elem) + bytes([1]) + struct.pack(">H", 0xFFFF)
    bda = bytes([flags]) + struct.pack(">HH", 288, 288) + special + data
    return (sf(0xD3A8EB, name("BC1")) + sf(0xD3A8C7) + sf(0xD3A66B, obd) + sf(0xD3AC6B, obp)
            + sf(0xD3ABEB, mbc) + sf(0xD3A6EB, bdd) + sf(0xD3A9C7) + sf(0xD3EEEB, bda)
            + sf(0xD3A9EB))


def page(n, obj):
    pgd = bytes([0, 0]) + struct.pack(">HH", 14400, 14400) + (12240).to_bytes(3, "big")
    pgd += (15840).to_bytes(3, "big") + b"\0\0\0"
    return (sf(0xD3A8AF, name("P%d" % n)) + sf(0xD3A8C9) + sf(0xD3A6AF, pgd) + sf(0xD3A9C9)
            + obj + sf(0xD3A9AF))


QR_PLAIN = bytes([0x40, 0, 0, 1, 0, 0, 0, 0, 0])       # escapes off, smallest version, level M
QR_ESC = bytes([0x00, 0, 0, 1, 0, 0, 0, 0, 0])         # escapes on
DM = bytes([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0])
PDF417 = bytes([0x40, 4, 0xFF, 2, 0, 0])
utf8 = "Grüße, €5 \\ fin"

CASES = [
    ("CODE-39", "CODE39-TEST", barcode(0x01, 0x01, "CODE39-TEST".encode("cp500"), elem=720)),
    ("EAN-13", "4006381333931", barcode(0x09, 0x00, "400638133393".encode("cp500"), module=15)),
    ("UPC-A", "036000291452", barcode(0x03, 0x00, "03600029145".encode("cp500"), module=15)),
    ("I2/5", "12345678", barcode(0x0C, 0x01, "12345678".encode("cp500"), elem=720)),
    ("CODE-128", "Hello, AFP 128!", barcode(0x11, 0x02, "Hello, AFP 128!".encode("cp037"),
                                            flags=0x20, module=15, elem=720)),
    ("QR", "https://example.org/?a=1&b=2", barcode(0x20, 0x02, b"https://example.org/?a=1&b=2",
                                                  special=QR_PLAIN)),
    ("QR", utf8, barcode(0x20, 0x02, b"\\000026" + utf8.replace("\\", "\\\\").encode("utf-8"),
                         special=QR_ESC)),
    ("-", "Data Matrix", barcode(0x1C, 0x00, b"Data Matrix 0123456789", special=DM)),
    ("-", "PDF417", barcode(0x1E, 0x00, b"PDF417 data 0123456789", special=PDF417)),
    ("-", "Intelligent Mail", barcode(0x22, 0x00, "01234567094987654321".encode("cp500"))),
]

out = sf(0xD3A8A8, name("BCTEST"))
for i, (kind, expect, obj) in enumerate(CASES):
    out += page(i + 1, obj)
    print("%s\t%s" % (kind, expect))
out += sf(0xD3A9A8)
with open(sys.argv[1], "wb") as f:
    f.write(out)
