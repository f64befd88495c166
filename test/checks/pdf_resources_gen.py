#!/usr/bin/env python3
"""Writes the inputs of test/checks/52-pdf-resources.sh into directory argv[1]:

  main.afp   an inline resource group with a form map (medium 8.5 x 11 in at 240 units per
             inch; medium map M1 with medium overlay OMEDIUM through MMO + MMC X'F2', normal
             duplex X'F4' 02, MCC 2 copies) and the overlay OMEDIUM (a 1 x 0.25 in black rule at
             (0.5, 0.5) in); then two pages of 8.5 x 11 in:
               page 1: IPO OEXT at (1, 3) in, IPS SEXT at (1, 5) in, IOB PEXT (object
                       container, 2 x 1 in area at (4, 3) in), IOB TEXT (2 x 1 in at (4, 5) in)
                       -- all four only in the resource directory;
               page 2: a tiled IOCA image (8 x 8 pels in a 2 x 2 in area at (1, 1) in): tile 1
                       bilevel 4 x 4 all set in red (Tile Set Color), tile 2 Solid Fill
                       Rectangle 4 x 4 in blue, tile 3 RGB 8 x 4 green (TIFF PackBits); and an
                       RGB 2 x 1 image (2 x 1 in at (4, 1) in) whose transparency mask hides its
                       left pel.
  res/OEXT.ovl  overlay: a 2 x 0.5 in black rule at its origin
  res/SEXT.psg  page segment: a 1 x 1 in black rule at its origin
  res/PEXT.png  2 x 1 RGBA PNG: left pel red opaque, right pel blue with alpha 128
  res/TEXT.tif  2 x 1 uncompressed RGB TIFF, both pels green (0, 160, 0), 72 dpi

All structures as in modca-reference-10 / ioca-reference-09 (and core/afp_writer.c)."""
import os
import struct
import sys
import zlib

U = 240                                  # units per inch


def sf(sfid, data=b""):
    """One structured field: X'5A', length, identifier, flags, sequence, data."""
    return b"\x5a" + struct.pack(">H", 8 + len(data)) + sfid.to_bytes(3, "big") + b"\0\0\0" + data


def name(s):
    return s.ljust(8).encode("cp500")


def u3(v):
    return (v & 0xFFFFFF).to_bytes(3, "big")


def descriptor(w, h):
    """PGD / PTD-2 data: 240 units per inch, w x h units."""
    return bytes([0, 0]) + struct.pack(">HH", 10 * U, 10 * U) + u3(w) + u3(h)


def rule_text(x, y, length, width):
    """BPT … EPT: AMB y, AMI x, DIR (length, width) — PTOCA chained control sequences."""
    ptx = b"\x2b\xd3" + bytes([4, 0xD3]) + struct.pack(">h", y) + bytes([4, 0xC7])
    ptx += struct.pack(">h", x) + bytes([7, 0xE4]) + struct.pack(">hh", length, width) + b"\0"
    return sf(0xD3A89B, name("PT1")) + sf(0xD3EE9B, ptx) + sf(0xD3A99B, name("PT1"))


def aeg(w, h):
    d = descriptor(w, h)
    return sf(0xD3A8C9) + sf(0xD3A6AF, d + b"\0") + sf(0xD3B19B, d + b"\0\0") + sf(0xD3A9C9)


def overlay(n, w, h, body):
    return sf(0xD3A8DF, name(n)) + aeg(w, h) + body + sf(0xD3A9DF, name(n))


def include(sfid, n, x, y):
    d = name(n) + u3(x) + u3(y)
    return sf(sfid, d + (b"\0\0" if sfid == 0xD3AFD8 else b""))


def iob(n, otype, x, y, w, h):
    d = name(n) + bytes([0, otype]) + u3(x) + u3(y) + b"\x00\x00\x2d\x00"
    d += b"\xff\xff\xff\xff\xff\xff" + b"\x01"
    d += bytes([8, 0x4B, 0, 0]) + struct.pack(">HH", 10 * U, 10 * U)
    d += bytes([9, 0x4C, 2]) + u3(w) + u3(h) + bytes([3, 0x04, 0x60])
    return sf(0xD3AFC3, d)


def image_object(n, x, y, w, h, pw, ph, content):
    """BIM with OBD (area w x h units), OBP at (x, y), MIO scale to fill, IDD pw x ph pels."""
    obd = bytes([3, 0x43, 1, 8, 0x4B, 0, 0]) + struct.pack(">HH", 10 * U, 10 * U)
    obd += bytes([9, 0x4C, 2]) + u3(w) + u3(h)
    obp = bytes([1, 23]) + u3(x) + u3(y) + b"\x00\x00\x2d\x00\x00" + b"\0" * 6 + b"\x00\x00\x2d\x00\x00"
    idd = bytes([0]) + struct.pack(">HHHH", 10 * U, 10 * U, pw, ph)
    return (sf(0xD3A8FB, name(n)) + sf(0xD3A8C7) + sf(0xD3A66B, obd) + sf(0xD3AC6B, obp)
            + sf(0xD3ABFB, bytes([0, 5, 3, 0x04, 0x60])) + sf(0xD3A6FB, idd) + sf(0xD3A9C7)
            + sf(0xD3EEFB, content) + sf(0xD3A9FB, name(n)))


def p1(pid, data):
    return bytes([pid, len(data)]) + data


def pfe(pid, data):
    return bytes([0xFE, pid]) + struct.pack(">H", len(data)) + data


def size(w, h):
    return p1(0x94, bytes([0]) + struct.pack(">HHHH", 10 * U, 10 * U, w, h))


def packbits(data):
    """TIFF PackBits: literal runs of at most 128 bytes."""
    out = b""
    for i in range(0, len(data), 128):
        chunk = data[i:i + 128]
        out += bytes([len(chunk) - 1]) + chunk
    return out


def tiled_image():
    c = b"\x70\x00\x91\x01\xff" + size(8, 8) + pfe(0xBB, b"\0\0")
    # tile 1: bilevel 4 x 4, all pels set, red
    c += p1(0x8C, b"") + p1(0xB5, struct.pack(">II", 0, 0)) + p1(0xB6, struct.pack(">II", 4, 4))
    c += p1(0x95, b"\x03\x01") + p1(0x96, b"\x01") + p1(0xB7, b"\x01\0\0\0\x08\x08\x08\x00\xff\x00\x00")
    c += pfe(0x92, b"\xf0" * 4) + p1(0x8D, b"")
    # tile 2: solid fill 4 x 4, blue
    c += p1(0x8C, b"") + p1(0xB5, struct.pack(">II", 4, 0)) + p1(0xB6, struct.pack(">II", 4, 4))
    c += p1(0x95, b"\x20\x01") + p1(0xB7, b"\x01\0\0\0\x08\x08\x08\x00\x00\x00\xff") + p1(0x8D, b"")
    # tile 3: RGB 8 x 4, green, PackBits
    rgb = bytes([0, 160, 0]) * 32
    c += p1(0x8C, b"") + p1(0xB5, struct.pack(">II", 0, 4)) + p1(0xB6, struct.pack(">II", 8, 4))
    c += p1(0x95, b"\x0c\x01") + p1(0x96, b"\x18") + p1(0x9B, b"\x00\x01\0\0\0\x08\x08\x08")
    c += pfe(0x92, packbits(rgb)) + p1(0x8D, b"")
    return c + b"\x93\x00\x71\x00"


def masked_image():
    """RGB 2 x 1 (red, red) whose transparency mask (B'01') hides the left pel."""
    c = b"\x70\x00\x91\x01\xff" + size(2, 1) + p1(0x95, b"\x03\x01") + p1(0x96, b"\x18")
    c += p1(0x9B, b"\x00\x01\0\0\0\x08\x08\x08")
    c += p1(0x8E, b"") + size(2, 1) + pfe(0x92, b"\x40") + p1(0x8F, b"")
    c += pfe(0x92, bytes([255, 0, 0, 255, 0, 0]))
    return c + b"\x93\x00\x71\x00"


def png_rgba(w, h, pels):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + b"".join(bytes(p) for p in pels[y * w:(y + 1) * w]) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def tiff_rgb(w, h, pels, dpi=72):
    """Little-endian baseline TIFF, one uncompressed RGB strip."""
    data = b"".join(bytes(p) for p in pels)
    entries = []
    n_entries = 11
    ifd_off = 8
    extra_off = ifd_off + 2 + 12 * n_entries + 4
    bps_off, res_off = extra_off, extra_off + 6
    data_off = res_off + 8
    def e(tag, typ, count, value):
        entries.append(struct.pack("<HHI", tag, typ, count) + value)
    e(256, 3, 1, struct.pack("<HH", w, 0))
    e(257, 3, 1, struct.pack("<HH", h, 0))
    e(258, 3, 3, struct.pack("<I", bps_off))
    e(259, 3, 1, struct.pack("<HH", 1, 0))
    e(262, 3, 1, struct.pack("<HH", 2, 0))
    e(273, 4, 1, struct.pack("<I", data_off))
    e(277, 3, 1, struct.pack("<HH", 3, 0))
    e(278, 3, 1, struct.pack("<HH", h, 0))
    e(279, 4, 1, struct.pack("<I", len(data)))
    e(282, 5, 1, struct.pack("<I", res_off))
    e(296, 3, 1, struct.pack("<HH", 2, 0))
    assert len(entries) == n_entries
    out = b"II*\0" + struct.pack("<I", ifd_off) + struct.pack("<H", n_entries) + b"".join(entries)
    out += b"\0\0\0\0" + struct.pack("<HHH", 8, 8, 8) + struct.pack("<II", dpi, 1) + data
    return out


def main(d):
    os.makedirs(os.path.join(d, "res"), exist_ok=True)
    inch = U
    # form map: medium 8.5 x 11 in, page at the origin, medium overlay, duplex, 2 copies
    mdd = struct.pack(">BBHH", 0, 0, 10 * U, 10 * U) + u3(2040) + u3(2640) + b"\0"
    pgp = b"\x01" + bytes([10]) + u3(0) + u3(0) + b"\x00\x00" + b"\x00"
    mmo = bytes([12, 0, 0, 0]) + bytes([1, 0, 0, 0]) + name("OMEDIUM")
    mmc = bytes([1, 0xFF, 0xF2, 0x01, 0xF4, 0x02])
    mcc = struct.pack(">HHBB", 1, 2, 0, 1)
    fm = (sf(0xD3A8CD, name("F1CHECK")) + sf(0xD3A8C4, name("DEG")) + sf(0xD3A688, mdd)
          + sf(0xD3A9C4, name("DEG")) + sf(0xD3A8CC, name("M1")) + sf(0xD3B1DF, mmo)
          + sf(0xD3B1AF, pgp) + sf(0xD3A288, mcc) + sf(0xD3A788, mmc) + sf(0xD3A9CC, name("M1"))
          + sf(0xD3A9CD, name("F1CHECK")))
    omedium = overlay("OMEDIUM", 2040, 2640, rule_text(inch // 2, inch // 2, inch, inch // 4))
    rg = (sf(0xD3A8C6, name("RG")) + sf(0xD3A8CE, name("F1CHECK")) + fm + sf(0xD3A9CE)
          + sf(0xD3A8CE, name("OMEDIUM")) + omedium + sf(0xD3A9CE) + sf(0xD3A9C6, name("RG")))
    page1 = (sf(0xD3A8AF, name("P1")) + aeg(2040, 2640)
             + include(0xD3AFD8, "OEXT", inch, 3 * inch)
             + include(0xD3AF5F, "SEXT", inch, 5 * inch)
             + iob("PEXT", 0x92, 4 * inch, 3 * inch, 2 * inch, inch)
             + iob("TEXT", 0x92, 4 * inch, 5 * inch, 2 * inch, inch)
             + sf(0xD3A9AF, name("P1")))
    page2 = (sf(0xD3A8AF, name("P2")) + aeg(2040, 2640)
             + image_object("TILED", inch, inch, 2 * inch, 2 * inch, 8, 8, tiled_image())
             + image_object("MASKED", 4 * inch, inch, 2 * inch, inch, 2, 1, masked_image())
             + sf(0xD3A9AF, name("P2")))
    doc = (rg + sf(0xD3A8A8, name("DOC")) + sf(0xD3ABCC, name("M1")) + page1 + page2
           + sf(0xD3A9A8, name("DOC")))
    with open(os.path.join(d, "main.afp"), "wb") as f:
        f.write(doc)
    with open(os.path.join(d, "res", "OEXT.ovl"), "wb") as f:
        f.write(overlay("OEXT", 960, 480, rule_text(0, 0, 2 * inch, inch // 2)))
    with open(os.path.join(d, "res", "SEXT.psg"), "wb") as f:
        f.write(sf(0xD3A85F, name("SEXT")) + rule_text(0, 0, inch, inch) + sf(0xD3A95F, name("SEXT")))
    with open(os.path.join(d, "res", "PEXT.png"), "wb") as f:
        f.write(png_rgba(2, 1, [(255, 0, 0, 255), (0, 0, 255, 128)]))
    with open(os.path.join(d, "res", "TEXT.tif"), "wb") as f:
        f.write(tiff_rgb(2, 1, [(0, 160, 0), (0, 160, 0)]))


main(sys.argv[1])
