#!/usr/bin/python3
"""pdf_visual_score.py OURS.pgm REFERENCE.pgm [RADIUS [THRESHOLD]] — visual similarity of two
rasterised pages.

Both images are binary PGM (P5) files as written by `pdftoppm -gray`. A pixel is "dark" (inked)
when its grey value is below THRESHOLD (default 200: anti-aliased hairlines count as ink). The score is the F1 of dark pixels with a positional tolerance: a dark
pixel of ours counts as matched (precision) when the reference has a dark pixel within RADIUS
pixels (Chebyshev distance, default 2), and a dark reference pixel counts as found (recall) when
we have one within RADIUS. F1 = 2PR / (P + R); two pages without any dark pixel score 1.0.
Pages of different sizes are compared on their common top-left area (the size difference is
reported). Prints "f1=… precision=… recall=… dark_ours=… dark_ref=…" and exits 0 (the caller
applies the threshold). Standard library only.
"""
import sys


def read_pgm(path):
    """Returns (width, height, bytes) of a binary 8-bit PGM file."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while data[pos:pos + 1] not in (b"\n", b""):
                pos += 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    if fields[0] != b"P5" or int(fields[3]) > 255:
        raise ValueError("%s: not an 8-bit binary PGM" % path)
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + w * h]
    return w, h, pixels


def dark_rows(w, h, pixels, cw, ch, threshold):
    """Dark-pixel bitmaps of the common area, one Python int per row (bit x = column x)."""
    rows = []
    for y in range(ch):
        line = pixels[y * w:y * w + cw]
        bits = 0
        for x, v in enumerate(line):
            if v < threshold:
                bits |= 1 << x
        rows.append(bits)
    return rows


def dilate(rows, r, width):
    """Every pixel within Chebyshev distance r of a dark pixel."""
    mask = (1 << width) - 1
    horiz = []
    for bits in rows:
        d = bits
        for k in range(1, r + 1):
            d |= (bits << k) | (bits >> k)
        horiz.append(d & mask)
    out = []
    for y in range(len(rows)):
        d = 0
        for k in range(max(0, y - r), min(len(rows), y + r + 1)):
            d |= horiz[k]
        out.append(d)
    return out


def popcount(v):
    return bin(v).count("1")


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: pdf_visual_score.py OURS.pgm REFERENCE.pgm [RADIUS [THRESHOLD]]\n")
        return 2
    r = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    threshold = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    w1, h1, p1 = read_pgm(sys.argv[1])
    w2, h2, p2 = read_pgm(sys.argv[2])
    cw, ch = min(w1, w2), min(h1, h2)
    ours = dark_rows(w1, h1, p1, cw, ch, threshold)
    ref = dark_rows(w2, h2, p2, cw, ch, threshold)
    ours_d, ref_d = dilate(ours, r, cw), dilate(ref, r, cw)
    n_ours = sum(popcount(v) for v in ours)
    n_ref = sum(popcount(v) for v in ref)
    hit_ours = sum(popcount(a & b) for a, b in zip(ours, ref_d))
    hit_ref = sum(popcount(a & b) for a, b in zip(ref, ours_d))
    if n_ours == 0 and n_ref == 0:
        p = rc = f1 = 1.0
    else:
        p = hit_ours / n_ours if n_ours else 0.0
        rc = hit_ref / n_ref if n_ref else 0.0
        f1 = 2 * p * rc / (p + rc) if p + rc > 0 else 0.0
    extra = "" if (w1, h1) == (w2, h2) else " size=%dx%d/%dx%d" % (w1, h1, w2, h2)
    print("f1=%.4f precision=%.4f recall=%.4f dark_ours=%d dark_ref=%d%s"
          % (f1, p, rc, n_ours, n_ref, extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
