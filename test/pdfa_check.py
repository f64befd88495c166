#!/usr/bin/python3
"""pdfa_check.py — an in-tree checker of the PDF/A-2b rules afp_to_pdf {"pdfa": "2b"} must meet.

No PDF/A validator (veraPDF, a Ghostscript mode, an npm package) is installable here from Debian or
npm, so this script — standard library only, run with /usr/bin/python3 — parses the PDF itself
(classic cross-reference tables; object streams and xref streams are reported as unsupported)
and asserts the ISO 19005-2 level B rules listed in RULES below. It is not a full validator: the
rules it does not check are listed in docs/conversion.md.

usage: pdfa_check.py FILE.pdf...   prints "FILE: ok (N objects, M rules checked)" or one line per
                                   violation "FILE: RULE: message"; exit 0 when all pass, 1 if not.
"""
import re
import sys
import xml.etree.ElementTree as ET
import zlib

RULES = {
    "6.1.2 header": "%PDF-1.n header followed by a comment of at least 4 bytes >= 128",
    "6.1.3 trailer": "trailer /ID (two strings), no /Encrypt, %%EOF at the end, valid xref offsets",
    "6.1.7 streams": "stream/endstream EOLs, /Length exact, no /F /FFilter /FDecodeParms",
    "6.1.7 filters": "no LZWDecode, no Crypt filter",
    "6.1.13 limits": "integers <= 2^31-1, strings <= 32767 bytes, names <= 127 bytes, "
                     "<= 8,388,607 objects, q nesting <= 28, DeviceN <= 32 colorants",
    "6.2.2 output intent": "GTS_PDFA1 output intent with an embedded ICC profile (v2/v4, mntr/prtr, "
                           "N matching its colour space, valid header and tag table)",
    "6.2.4 colour": "DeviceRGB/DeviceGray/DeviceCMYK only as covered by the output intent "
                    "(content operators, image and inline image spaces, Indexed bases, "
                    "DeviceN alternates); DeviceN process colorants or a Colorants entry",
    "6.2.8 images": "no /Alternates, /OPI, /Interpolate true",
    "6.2.9 xobjects": "no PostScript XObjects, no /Subtype2 /PS, no reference XObjects",
    "6.2.10 operators": "only operators defined by ISO 32000-1 in content streams",
    "6.2.11 fonts": "every font except Type 3 embedded, font file type matches the font subtype",
    "6.2.11.5 widths": "/W (or /DW) of every CID shown equals the embedded TrueType/OpenType "
                       "advance (1/1000 em, +-1); Type 3 /Widths equal the d0/d1 advance",
    "6.2.11.8 notdef": "no text showing operator references the .notdef glyph (GID 0, a code "
                       "without a Type 3 CharProc, a GID outside the font)",
    "6.6 actions": "no JavaScript, Launch, Sound, Movie, ResetForm, ImportData, Hide, "
                   "SetOCGState, Rendition, Trans, GoTo3DView actions; no /AA; no /JS",
    "6.6.2 metadata": "catalog /Metadata XMP stream (/Subtype /XML, no filter) with "
                      "pdfaid:part 2, pdfaid:conformance B; xpacket without bytes/encoding",
    "6.6.2.3 info": "Info /Title /Author /Subject /Keywords /Creator /Producer /CreationDate "
                    "/ModDate equal dc:title dc:creator dc:description pdf:Keywords "
                    "xmp:CreatorTool pdf:Producer xmp:CreateDate xmp:ModifyDate",
    "6.8 embedded files": "no embedded files",
}

WS = b"\x00\t\n\x0c\r "
DELIM = b"()<>[]{}/%"

OPERATORS = set("""b B b* B* BDC BI BMC BT BX c cm CS cs d d0 d1 Do DP EI EMC ET EX f F f* G g gs
h i ID j J K k l m M MP n q Q re RG rg ri s S SC sc SCN scn sh T* Tc Td TD Tf Tj TJ TL Tm Tr Ts
Tw Tz v w W W* y ' \"""".split())


class Name(str):
    """A PDF name (without the slash)."""


class PString(bytes):
    """A PDF string (decoded bytes)."""


class Ref(tuple):
    """An indirect reference (num, gen)."""


class Op(str):
    """A content-stream operator."""


class Stream:
    """A stream object: its dictionary and raw data."""

    def __init__(self, d, raw):
        self.dict = d
        self.raw = raw


class ParseError(Exception):
    pass


class Lexer:
    """Tokenizer and object parser over a bytes buffer."""

    def __init__(self, data, pos=0, problems=None):
        self.d = data
        self.p = pos
        self.problems = problems if problems is not None else []

    def skip_ws(self):
        d, n = self.d, len(self.d)
        while self.p < n:
            c = d[self.p]
            if c in WS:
                self.p += 1
            elif c == 0x25:  # comment
                while self.p < n and d[self.p] not in b"\r\n":
                    self.p += 1
            else:
                break

    def token(self):
        """Next token: ('num', v) ('name', s) ('str', b) ('kw', s) ('[',) etc; None at end."""
        self.skip_ws()
        d, n = self.d, len(self.d)
        if self.p >= n:
            return None
        c = d[self.p]
        if c == 0x2F:  # name
            s = self.p + 1
            e = s
            while e < n and d[e] not in WS and d[e] not in DELIM:
                e += 1
            raw = d[s:e]
            self.p = e
            if len(raw) > 127:
                self.problems.append(("6.1.13 limits", "name longer than 127 bytes"))
            name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
            return ("name", Name(name.decode("latin-1")))
        if c == 0x28:  # literal string
            depth, out, i = 1, bytearray(), self.p + 1
            while i < n:
                ch = d[i]
                if ch == 0x5C:
                    i += 1
                    if i >= n:
                        break
                    e = d[i]
                    m = {0x6E: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12}
                    if e in m:
                        out.append(m[e])
                    elif 0x30 <= e <= 0x37:
                        k = i
                        while k < n and k < i + 3 and 0x30 <= d[k] <= 0x37:
                            k += 1
                        out.append(int(d[i:k], 8) & 255)
                        i = k - 1
                    elif e == 0x0D:
                        if i + 1 < n and d[i + 1] == 0x0A:
                            i += 1
                    elif e == 0x0A:
                        pass
                    else:
                        out.append(e)
                elif ch == 0x28:
                    depth += 1
                    out.append(ch)
                elif ch == 0x29:
                    depth -= 1
                    if depth == 0:
                        break
                    out.append(ch)
                else:
                    out.append(ch)
                i += 1
            self.p = i + 1
            if len(out) > 32767:
                self.problems.append(("6.1.13 limits", "string longer than 32767 bytes"))
            return ("str", PString(bytes(out)))
        if c == 0x3C:
            if self.p + 1 < n and d[self.p + 1] == 0x3C:
                self.p += 2
                return ("<<",)
            e = d.index(b">", self.p)
            hx = re.sub(rb"\s", b"", d[self.p + 1:e])
            self.p = e + 1
            if len(hx) % 2:
                self.problems.append(("6.1.6 hex strings", "odd number of hex digits"))
                hx += b"0"
            if len(hx) // 2 > 32767:
                self.problems.append(("6.1.13 limits", "string longer than 32767 bytes"))
            return ("str", PString(bytes.fromhex(hx.decode("ascii"))))
        if c == 0x3E:
            if self.p + 1 < n and d[self.p + 1] == 0x3E:
                self.p += 2
                return (">>",)
            raise ParseError("unexpected > at %d" % self.p)
        if c in b"[]{}":
            self.p += 1
            return (chr(c),)
        s = self.p
        while self.p < n and d[self.p] not in WS and d[self.p] not in DELIM:
            self.p += 1
        w = d[s:self.p]
        if re.fullmatch(rb"[+-]?\d+", w):
            v = int(w)
            if abs(v) > 2147483647:
                self.problems.append(("6.1.13 limits", "integer %d out of range" % v))
            return ("num", v)
        if re.fullmatch(rb"[+-]?(\d+\.\d*|\.\d+|\d+\.)", w):
            return ("num", float(w))
        return ("kw", w.decode("latin-1"))

    def obj(self, tok=None):
        """Parses one object (references resolved syntactically)."""
        t = tok if tok is not None else self.token()
        if t is None:
            raise ParseError("unexpected end")
        k = t[0]
        if k == "num":
            if isinstance(t[1], int) and t[1] >= 0:
                save = self.p
                t2 = self.token()
                if t2 and t2[0] == "num" and isinstance(t2[1], int):
                    t3 = self.token()
                    if t3 and t3 == ("kw", "R"):
                        return Ref((t[1], t2[1]))
                self.p = save
            return t[1]
        if k in ("name", "str"):
            return t[1]
        if k == "[":
            arr = []
            while True:
                t = self.token()
                if t is None:
                    raise ParseError("unterminated array")
                if t[0] == "]":
                    return arr
                arr.append(self.obj(t))
        if k == "<<":
            dct = {}
            while True:
                t = self.token()
                if t is None:
                    raise ParseError("unterminated dictionary")
                if t[0] == ">>":
                    return dct
                if t[0] != "name":
                    raise ParseError("dictionary key is not a name at %d" % self.p)
                dct[t[1]] = self.obj()
        if k == "kw":
            if t[1] == "true":
                return True
            if t[1] == "false":
                return False
            if t[1] == "null":
                return None
            return Op(t[1])
        raise ParseError("unexpected token %r at %d" % (t, self.p))


class PDF:
    """A parsed file: objects by number, trailer, problems found while parsing."""

    def __init__(self, data):
        self.data = data
        self.problems = []
        self.objects = {}
        self.trailer = {}
        self._parse()

    def bad(self, rule, msg):
        self.problems.append((rule, msg))

    def _parse(self):
        d = self.data
        m = re.match(rb"%PDF-1\.([0-7])(\r\n|\r|\n)", d)
        if not m:
            self.bad("6.1.2 header", "file does not start with %PDF-1.n and an EOL")
        else:
            rest = d[m.end():m.end() + 64]
            cm = re.match(rb"%([^\r\n]*)", rest)
            if not cm or sum(1 for b in cm.group(1)[:4] if b >= 128) < 4:
                self.bad("6.1.2 header", "second line is not a comment with 4 bytes >= 128")
        tail = d[-32:]
        if not re.search(rb"%%EOF(\r\n|\r|\n)?$", tail):
            self.bad("6.1.3 trailer", "the file does not end with %%EOF (and an optional EOL)")
        sx = d.rfind(b"startxref")
        if sx < 0:
            raise ParseError("no startxref")
        lx = Lexer(d, sx + 9)
        t = lx.token()
        start = t[1]
        if d[start:start + 4] != b"xref":
            if re.match(rb"\d+ \d+ obj", d[start:start + 20]):
                raise ParseError("cross-reference streams are not supported by this checker")
            self.bad("6.1.3 trailer", "startxref does not point at an xref table")
            raise ParseError("bad startxref")
        offsets = {}
        lx = Lexer(d, start + 4)
        while True:
            t = lx.token()
            if t == ("kw", "trailer"):
                break
            first, cnt = t[1], lx.token()[1]
            lx.skip_ws()
            for i in range(cnt):
                line = d[lx.p:lx.p + 20]
                if (len(line) != 20 or line[17:18] not in (b"n", b"f") or line[10:11] != b" "
                        or line[16:17] != b" " or line[18:20] not in (b" \n", b" \r", b"\r\n")):
                    self.bad("6.1.4 xref", "malformed cross-reference entry %d" % (first + i))
                if line[17:18] == b"n":
                    offsets[first + i] = int(line[:10])
                lx.p += 20
        self.trailer = lx.obj()
        if "Prev" in self.trailer:
            self.bad("6.1.3 trailer", "incremental updates are not followed by this checker")
        if len(offsets) > 8388607:
            self.bad("6.1.13 limits", "more than 8,388,607 indirect objects")
        for num, off in sorted(offsets.items()):
            self.objects[num] = self._object_at(num, off)

    def _object_at(self, num, off):
        d = self.data
        lx = Lexer(d, off, self.problems)
        a, b, kw = lx.token(), lx.token(), lx.token()
        if not (a and a[0] == "num" and a[1] == num and kw == ("kw", "obj")):
            self.bad("6.1.4 xref", "xref offset of object %d does not point at '%d 0 obj'" % (num, num))
            return None
        o = lx.obj()
        save = lx.p
        t = lx.token()
        if t == ("kw", "stream"):
            p = lx.p
            if d[p:p + 2] == b"\r\n":
                p += 2
            elif d[p:p + 1] == b"\n":
                p += 1
            else:
                self.bad("6.1.7 streams", "object %d: 'stream' is not followed by CRLF or LF" % num)
            length = o.get("Length")
            if isinstance(length, Ref):
                lo = self._resolve_raw(length[0])
                length = lo
            if not isinstance(length, int):
                self.bad("6.1.7 streams", "object %d: stream without an integer /Length" % num)
                e = d.index(b"endstream", p)
                length = e - p
            raw = d[p:p + length]
            after = d[p + length:p + length + 12]
            if not re.match(rb"(\r\n|\r|\n)?endstream", after):
                self.bad("6.1.7 streams", "object %d: /Length %d does not end at an EOL + endstream"
                         % (num, length))
            elif not re.match(rb"(\r\n|\r|\n)endstream", after):
                self.bad("6.1.7 streams", "object %d: 'endstream' is not preceded by an EOL" % num)
            for k in ("F", "FFilter", "FDecodeParms"):
                if k in o:
                    self.bad("6.1.7 streams", "object %d: stream has /%s" % (num, k))
            return Stream(o, raw)
        lx.p = save
        return o

    def _resolve_raw(self, num):
        m = re.search(rb"(?<![0-9])%d 0 obj\s*(\d+)\s*endobj" % num, self.data)
        return int(m.group(1)) if m else None

    def get(self, o):
        """Resolves a reference (once; references to references are followed)."""
        seen = 0
        while isinstance(o, Ref) and seen < 32:
            o = self.objects.get(o[0])
            seen += 1
        return o

    def stream_data(self, s):
        """Decoded data of a stream (FlateDecode only; other filters: raw bytes, None)."""
        f = self.get(s.dict.get("Filter"))
        filters = f if isinstance(f, list) else ([f] if f else [])
        data = s.raw
        for x in filters:
            if x == "FlateDecode":
                data = zlib.decompress(data)
            else:
                return None
        return data


def content_ops(data, problems):
    """Yields (operator, operands) of a content stream; inline images as ('BI', dict)."""
    lx = Lexer(data, 0, problems)
    operands = []
    while True:
        try:
            t = lx.token()
        except (ParseError, ValueError) as e:
            problems.append(("6.2.10 operators", "content stream does not parse: %s" % e))
            return
        if t is None:
            return
        if t[0] == "kw" and t[1] not in ("true", "false", "null"):
            op = t[1]
            if op == "BI":
                d = {}
                while True:
                    k = lx.token()
                    if k is None or k == ("kw", "ID"):
                        break
                    d[k[1]] = lx.obj()
                p = lx.p + 1
                m = re.compile(rb"[\x00\t\n\x0c\r ]EI(?=[\x00\t\n\x0c\r ]|$)").search(data, p)
                lx.p = m.end() if m else len(data)
                yield ("BI", [d])
                operands = []
                continue
            yield (op, operands)
            operands = []
        else:
            operands.append(lx.obj(t))


def sfnt_tables(font):
    """Table directory of a TrueType/OpenType font: tag -> bytes."""
    n = int.from_bytes(font[4:6], "big")
    out = {}
    for i in range(n):
        e = font[12 + 16 * i:28 + 16 * i]
        tag = e[:4].decode("latin-1")
        off = int.from_bytes(e[8:12], "big")
        ln = int.from_bytes(e[12:16], "big")
        out[tag] = font[off:off + ln]
    return out


def sfnt_advances(font):
    """(units per em, number of glyphs, advance of each glyph id)."""
    t = sfnt_tables(font)
    upem = int.from_bytes(t["head"][18:20], "big")
    nglyphs = int.from_bytes(t["maxp"][4:6], "big")
    nhm = int.from_bytes(t["hhea"][34:36], "big")
    hm = t["hmtx"]
    adv = [int.from_bytes(hm[4 * i:4 * i + 2], "big") for i in range(nhm)]
    last = adv[-1] if adv else 0
    return upem, nglyphs, adv, last


class Checker:
    """Applies the rules to one parsed PDF."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.problems = list(pdf.problems)
        self.fonts_checked = 0
        self.glyphs_checked = 0

    def bad(self, rule, msg):
        self.problems.append((rule, msg))

    def run(self):
        pdf = self.pdf
        tr = pdf.trailer
        idv = tr.get("ID")
        if not (isinstance(idv, list) and len(idv) == 2 and all(isinstance(x, PString) for x in idv)):
            self.bad("6.1.3 trailer", "trailer has no /ID of two strings")
        if "Encrypt" in tr:
            self.bad("6.1.3 trailer", "the file is encrypted")
        root = pdf.get(tr.get("Root"))
        if not isinstance(root, dict):
            self.bad("6.1.3 trailer", "no catalog")
            return
        self.walk_everything()
        self.check_catalog(root)
        self.check_pages(root)

    def walk_everything(self):
        """Rules that hold for every object: filters, actions, images, xobjects, annotations."""
        for num, o in self.pdf.objects.items():
            d = o.dict if isinstance(o, Stream) else o
            for dd in self.dicts_in(d):
                self.check_dict(num, dd)
            if isinstance(o, Stream):
                f = self.pdf.get(o.dict.get("Filter"))
                for x in (f if isinstance(f, list) else [f]):
                    if x in ("LZWDecode", "Crypt"):
                        self.bad("6.1.7 filters", "object %d uses %s" % (num, x))

    def dicts_in(self, o):
        if isinstance(o, dict):
            yield o
            for v in o.values():
                yield from self.dicts_in(v)
        elif isinstance(o, list):
            for v in o:
                yield from self.dicts_in(v)

    def check_dict(self, num, d):
        s = d.get("S")
        if s in ("JavaScript", "Launch", "Sound", "Movie", "ResetForm", "ImportData", "Hide",
                 "SetOCGState", "Rendition", "Trans", "GoTo3DView"):
            self.bad("6.6 actions", "object %d has a %s action" % (num, s))
        if "JS" in d:
            self.bad("6.6 actions", "object %d has /JS" % num)
        if "AA" in d:
            self.bad("6.6 actions", "object %d has additional actions /AA" % num)
        t, st = d.get("Type"), d.get("Subtype")
        if t == "EmbeddedFile" or "EmbeddedFiles" in d:
            self.bad("6.8 embedded files", "object %d embeds a file" % num)
        if st == "Image" or t == "XObject":
            if d.get("Interpolate") is True:
                self.bad("6.2.8 images", "object %d: /Interpolate true" % num)
            for k in ("Alternates", "OPI"):
                if k in d:
                    self.bad("6.2.8 images", "object %d: /%s" % (num, k))
            if st == "PS" or d.get("Subtype2") == "PS":
                self.bad("6.2.9 xobjects", "object %d is a PostScript XObject" % num)
            if "Ref" in d:
                self.bad("6.2.9 xobjects", "object %d is a reference XObject" % num)
            if st == "Image" and "ColorSpace" in d and not d.get("ImageMask"):
                self.check_space(d["ColorSpace"], "image object %d" % num)
        if t == "Annot" or (st in ("Link", "Widget", "Text", "FreeText") and "Rect" in d):
            if st in ("Sound", "Movie", "Screen", "3D", "RichMedia", "FileAttachment"):
                self.bad("6.6 actions", "object %d: annotation %s" % (num, st))
            elif st != "Popup" and not (isinstance(d.get("F"), int) and d["F"] & 4):
                self.bad("6.3 annotations", "object %d: annotation without the Print flag" % num)

    def check_space(self, cs, where, resources=None):
        """Colour spaces allowed with an RGB output intent."""
        cs = self.pdf.get(cs)
        if isinstance(cs, Name):
            if cs in ("DeviceCMYK", "CMYK"):
                self.bad("6.2.4 colour", "%s uses DeviceCMYK (the output intent is sRGB)" % where)
            elif cs in ("DeviceRGB", "DeviceGray", "RGB", "G", "Pattern"):
                return
            elif resources is not None:
                spaces = self.pdf.get(resources.get("ColorSpace")) or {}
                if cs in spaces:
                    self.check_space(spaces[cs], where)
                else:
                    self.bad("6.2.4 colour", "%s: colour space /%s is not defined" % (where, cs))
            return
        if isinstance(cs, list) and cs:
            fam = cs[0]
            if fam in ("Indexed", "I"):
                self.check_space(cs[1], where + " (Indexed base)", resources)
            elif fam == "ICCBased":
                return
            elif fam in ("Separation", "DeviceN"):
                names = cs[1] if fam == "DeviceN" else [cs[1]]
                if fam == "DeviceN":
                    names = self.pdf.get(names)
                    if len(names) > 32:
                        self.bad("6.1.13 limits", "%s: DeviceN with more than 32 colorants" % where)
                    attrs = self.pdf.get(cs[4]) if len(cs) > 4 else {}
                    colorants = self.pdf.get((attrs or {}).get("Colorants")) or {}
                    for n in names:
                        if n not in ("Cyan", "Magenta", "Yellow", "Black", "None") and n not in colorants:
                            self.bad("6.2.4 colour", "%s: spot colorant /%s without a Colorants "
                                     "entry" % (where, n))
                self.check_space(cs[2], where + " (alternate)", resources)
            elif fam in ("CalRGB", "CalGray", "Lab", "Pattern"):
                return
            else:
                self.bad("6.2.4 colour", "%s: unknown colour space %r" % (where, fam))

    def check_catalog(self, root):
        pdf = self.pdf
        if "AA" in root or "OpenAction" in root:
            oa = pdf.get(root.get("OpenAction"))
            if "AA" in root or (isinstance(oa, dict) and oa.get("S") != "GoTo"):
                self.bad("6.6 actions", "catalog has an open action or /AA")
        names = pdf.get(root.get("Names")) or {}
        if "JavaScript" in names:
            self.bad("6.6 actions", "document-level JavaScript")
        if "EmbeddedFiles" in names:
            self.bad("6.8 embedded files", "the catalog lists embedded files")
        # output intent
        ois = pdf.get(root.get("OutputIntents"))
        profiles = set()
        found = False
        for oi in (ois or []):
            oi = pdf.get(oi)
            if isinstance(oi, dict) and oi.get("S") == "GTS_PDFA1":
                found = True
                p = oi.get("DestOutputProfile")
                profiles.add(p)
                ps = pdf.get(p)
                if not isinstance(ps, Stream):
                    self.bad("6.2.2 output intent", "GTS_PDFA1 output intent without DestOutputProfile")
                    continue
                self.check_icc(pdf.stream_data(ps), ps.dict.get("N"))
        if not found:
            self.bad("6.2.2 output intent", "no GTS_PDFA1 output intent")
        if len(profiles) > 1:
            self.bad("6.2.2 output intent", "output intents with different profiles")
        # metadata
        ms = pdf.get(root.get("Metadata"))
        if not isinstance(ms, Stream):
            self.bad("6.6.2 metadata", "catalog has no /Metadata stream")
            return
        if ms.dict.get("Type") != "Metadata" or ms.dict.get("Subtype") != "XML":
            self.bad("6.6.2 metadata", "metadata stream is not /Type /Metadata /Subtype /XML")
        if "Filter" in ms.dict:
            self.bad("6.6.2 metadata", "metadata stream is compressed")
        self.check_xmp(pdf.stream_data(ms) or b"")

    def check_icc(self, icc, n):
        if icc is None or len(icc) < 132:
            self.bad("6.2.2 output intent", "ICC profile missing or too short")
            return
        size = int.from_bytes(icc[0:4], "big")
        if size != len(icc):
            self.bad("6.2.2 output intent", "ICC size field %d != %d bytes" % (size, len(icc)))
        if icc[36:40] != b"acsp":
            self.bad("6.2.2 output intent", "ICC profile lacks the 'acsp' signature")
        if icc[8] not in (2, 4):
            self.bad("6.2.2 output intent", "ICC major version %d (2 or 4 allowed)" % icc[8])
        if icc[12:16] not in (b"mntr", b"prtr"):
            self.bad("6.2.2 output intent", "ICC class %r is not mntr or prtr" % icc[12:16])
        comps = {b"RGB ": 3, b"GRAY": 1, b"CMYK": 4}.get(icc[16:20])
        if comps is None or comps != n:
            self.bad("6.2.2 output intent", "ICC colour space %r does not match /N %r" % (icc[16:20], n))
        cnt = int.from_bytes(icc[128:132], "big")
        tags = {}
        for i in range(cnt):
            e = icc[132 + 12 * i:144 + 12 * i]
            off, ln = int.from_bytes(e[4:8], "big"), int.from_bytes(e[8:12], "big")
            if off + ln > len(icc) or off < 128:
                self.bad("6.2.2 output intent", "ICC tag %r outside the profile" % e[:4])
            tags[e[:4]] = icc[off:off + ln]
        need = [b"desc", b"wtpt", b"cprt"]
        if icc[16:20] == b"RGB ":
            need += [b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"]
        for t in need:
            if t not in tags:
                self.bad("6.2.2 output intent", "ICC profile lacks the %s tag" % t.decode())
        if icc[16:20] == b"RGB ":
            # the colorants must add up to the PCS white (D50) within the s15Fixed16 rounding
            s = [0.0, 0.0, 0.0]
            for t in (b"rXYZ", b"gXYZ", b"bXYZ"):
                v = tags.get(t, b"")
                if len(v) >= 20 and v[:4] == b"XYZ ":
                    for k in range(3):
                        s[k] += int.from_bytes(v[8 + 4 * k:12 + 4 * k], "big", signed=True) / 65536
            if max(abs(a - b) for a, b in zip(s, (0.9642, 1.0, 0.8249))) > 0.002:
                self.bad("6.2.2 output intent", "ICC colorants sum to %r, not the D50 white" % s)

    def check_xmp(self, x):
        m = re.search(rb"<\?xpacket begin=([^?]*)\?>", x)
        if not m:
            self.bad("6.6.2 metadata", "no xpacket header")
        elif b"bytes=" in m.group(1) or b"encoding=" in m.group(1):
            self.bad("6.6.2 metadata", "xpacket header has bytes or encoding attributes")
        try:
            root = ET.fromstring(re.sub(rb"<\?xpacket[^?]*\?>", b"", x))
        except ET.ParseError as e:
            self.bad("6.6.2 metadata", "XMP is not well-formed XML: %s" % e)
            return
        ns = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
              "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
              "dc": "http://purl.org/dc/elements/1.1/",
              "xmp": "http://ns.adobe.com/xap/1.0/",
              "pdf": "http://ns.adobe.com/pdf/1.3/"}
        props = {}
        for desc in root.iter("{%s}Description" % ns["rdf"]):
            for k, v in desc.attrib.items():
                props[k] = v
            for el in desc:
                lis = [li.text or "" for li in el.iter("{%s}li" % ns["rdf"])]
                props[el.tag] = lis[0] if lis else (el.text or "")
                if lis:
                    props[el.tag + "#n"] = len(lis)

        def q(p):
            pre, local = p.split(":")
            return "{%s}%s" % (ns[pre], local)

        if props.get(q("pdfaid:part")) != "2":
            self.bad("6.6.2 metadata", "pdfaid:part is %r, not 2" % props.get(q("pdfaid:part")))
        if props.get(q("pdfaid:conformance")) != "B":
            self.bad("6.6.2 metadata", "pdfaid:conformance is %r, not B"
                     % props.get(q("pdfaid:conformance")))
        info = self.pdf.get(self.pdf.trailer.get("Info")) or {}
        pairs = [("Title", "dc:title"), ("Author", "dc:creator"), ("Subject", "dc:description"),
                 ("Keywords", "pdf:Keywords"), ("Creator", "xmp:CreatorTool"),
                 ("Producer", "pdf:Producer"), ("CreationDate", "xmp:CreateDate"),
                 ("ModDate", "xmp:ModifyDate")]
        for key, prop in pairs:
            if key not in info:
                continue
            v = self.text(self.pdf.get(info[key]))
            xv = props.get(q(prop))
            if key.endswith("Date"):
                if xv is None or pdf_date(v) != xmp_date(xv):
                    self.bad("6.6.2.3 info", "Info /%s %r does not match %s %r" % (key, v, prop, xv))
            elif xv != v:
                self.bad("6.6.2.3 info", "Info /%s %r does not match %s %r" % (key, v, prop, xv))
            if key == "Author" and props.get(q(prop) + "#n", 1) != 1:
                self.bad("6.6.2.3 info", "dc:creator has more than one entry")

    @staticmethod
    def text(s):
        if not isinstance(s, bytes):
            return None
        if s[:2] == b"\xfe\xff":
            return s[2:].decode("utf-16-be", "replace")
        return s.decode("latin-1")

    def check_pages(self, root):
        pdf = self.pdf
        seen = set()
        stack = [(root.get("Pages"), None)]
        while stack:
            ref, inherited = stack.pop()
            node = pdf.get(ref)
            if not isinstance(node, dict) or id(node) in seen:
                continue
            seen.add(id(node))
            res = node.get("Resources", inherited)
            if node.get("Type") == "Pages":
                for k in node.get("Kids", []):
                    stack.append((k, res))
                continue
            for a in pdf.get(node.get("Annots")) or []:
                self.check_dict(-1, pdf.get(a) or {})
            contents = pdf.get(node.get("Contents"))
            data = b""
            for c in (contents if isinstance(contents, list) else [contents]):
                c = pdf.get(c)
                if isinstance(c, Stream):
                    data += (pdf.stream_data(c) or b"") + b"\n"
            self.check_content(data, pdf.get(res) or {}, "page", set())

    def check_content(self, data, res, where, forms, type3=None):
        """Operators, colour, q depth, text showing (widths, .notdef); recurses into forms."""
        pdf = self.pdf
        depth = 0
        font = None
        fonts = pdf.get(res.get("Font")) or {}
        xobjs = pdf.get(res.get("XObject")) or {}
        probs = []
        for op, args in content_ops(data, probs):
            if op not in OPERATORS:
                self.bad("6.2.10 operators", "%s: undefined operator %r" % (where, op))
                continue
            if op == "q":
                depth += 1
                if depth > 28:
                    self.bad("6.1.13 limits", "%s: q nesting deeper than 28" % where)
            elif op == "Q":
                depth -= 1
            elif op in ("k", "K"):
                self.bad("6.2.4 colour", "%s: DeviceCMYK operator %s" % (where, op))
            elif op in ("cs", "CS") and args:
                self.check_space(args[-1], "%s: %s" % (where, op), res)
            elif op == "BI":
                d = args[0]
                if not (d.get("IM") or d.get("ImageMask")):
                    cs = d.get("CS", d.get("ColorSpace"))
                    if cs is not None:
                        self.check_space(cs, "%s: inline image" % where, res)
                if d.get("I") is True or d.get("Interpolate") is True:
                    self.bad("6.2.8 images", "%s: inline image with Interpolate" % where)
                f = d.get("F", d.get("Filter"))
                for x in (f if isinstance(f, list) else [f]):
                    if x in ("LZW", "LZWDecode"):
                        self.bad("6.1.7 filters", "%s: inline image uses LZW" % where)
            elif op == "Tf" and args:
                font = args[0]
            elif op in ("Tj", "TJ", "'", '"') and args:
                strings = []
                a = args[-1]
                for x in (a if isinstance(a, list) else [a]):
                    if isinstance(x, PString):
                        strings.append(x)
                self.check_show(font, fonts, strings, where)
            elif op == "Do" and args:
                x = pdf.get(xobjs.get(args[0]))
                if isinstance(x, Stream) and x.dict.get("Subtype") == "Form":
                    key = id(x)
                    if key in forms:
                        continue
                    forms.add(key)
                    fres = pdf.get(x.dict.get("Resources")) or res
                    self.check_content(pdf.stream_data(x) or b"", fres, "form XObject", forms)
        for r, m in probs:
            self.bad(r, "%s: %s" % (where, m))

    def font_info(self, name, fonts):
        """Cached description of a font resource: kind, widths, glyph checks."""
        cache = self.__dict__.setdefault("_fonts", {})
        fref = fonts.get(name)
        key = fref if isinstance(fref, Ref) else ("direct", name, id(fonts))
        if key in cache:
            return cache[key]
        info = self.describe_font(self.pdf.get(fref), name)
        cache[key] = info
        return info

    def describe_font(self, f, name):
        pdf = self.pdf
        if not isinstance(f, dict):
            self.bad("6.2.11 fonts", "font /%s is not defined" % name)
            return None
        self.fonts_checked += 1
        st = f.get("Subtype")
        if st == "Type3":
            procs = pdf.get(f.get("CharProcs")) or {}
            enc = pdf.get(f.get("Encoding")) or {}
            codes = {}
            diffs = pdf.get(enc.get("Differences")) if isinstance(enc, dict) else None
            c = 0
            for x in diffs or []:
                if isinstance(x, int):
                    c = x
                else:
                    codes[c] = x
                    c += 1
            widths = pdf.get(f.get("Widths")) or []
            first = f.get("FirstChar", 0)
            adv = {}
            for code, gname in codes.items():
                s = pdf.get(procs.get(gname))
                if isinstance(s, Stream):
                    ops = list(content_ops(pdf.stream_data(s) or b"", []))
                    d01 = [a for o, a in ops if o in ("d0", "d1")]
                    adv[code] = d01[0][0] if d01 and d01[0] else None
                    fres = pdf.get(f.get("Resources")) or {}
                    self.check_content(pdf.stream_data(s) or b"", fres, "Type 3 glyph /%s" % gname,
                                       set())
            return {"kind": "type3", "name": name, "adv": adv, "widths": widths, "first": first}
        if st == "Type0":
            desc = pdf.get((pdf.get(f.get("DescendantFonts")) or [None])[0])
            if not isinstance(desc, dict):
                self.bad("6.2.11 fonts", "Type0 font /%s has no descendant font" % name)
                return None
            fd = pdf.get(desc.get("FontDescriptor")) or {}
            ff = [k for k in ("FontFile", "FontFile2", "FontFile3") if k in fd]
            if not ff:
                self.bad("6.2.11 fonts", "font /%s (%s) is not embedded" % (name, desc.get("BaseFont")))
                return None
            prog = pdf.get(fd[ff[0]])
            sub = prog.dict.get("Subtype") if isinstance(prog, Stream) else None
            dst = desc.get("Subtype")
            if dst == "CIDFontType2" and not (ff[0] == "FontFile2" or sub == "OpenType"):
                self.bad("6.2.11 fonts", "font /%s: CIDFontType2 with %s %s" % (name, ff[0], sub))
            if dst == "CIDFontType0" and not (ff[0] == "FontFile3" and sub in ("CIDFontType0C", "OpenType")):
                self.bad("6.2.11 fonts", "font /%s: CIDFontType0 with %s %s" % (name, ff[0], sub))
            data = pdf.stream_data(prog) if isinstance(prog, Stream) else None
            metrics = None
            if data and data[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
                try:
                    metrics = sfnt_advances(data)
                except (KeyError, IndexError, ValueError):
                    self.bad("6.2.11 fonts", "font /%s: the font program cannot be read" % name)
            else:
                self.bad("6.2.11 fonts", "font /%s: empty or non-sfnt font program" % name)
            if dst == "CIDFontType2" and data and data[:4] == b"OTTO":
                self.bad("6.2.11 fonts", "font /%s: CIDFontType2 over a CFF (OTTO) font program" % name)
            w = {}
            arr = pdf.get(desc.get("W")) or []
            i = 0
            while i < len(arr):
                a = arr[i]
                b = pdf.get(arr[i + 1]) if i + 1 < len(arr) else None
                if isinstance(b, list):
                    for k, v in enumerate(b):
                        w[a + k] = v
                    i += 2
                else:
                    for c in range(a, b + 1):
                        w[c] = arr[i + 2]
                    i += 3
            c2g = desc.get("CIDToGIDMap", "Identity")
            gmap = None
            if isinstance(pdf.get(c2g), Stream):
                raw = pdf.stream_data(pdf.get(c2g)) or b""
                gmap = [int.from_bytes(raw[2 * i:2 * i + 2], "big") for i in range(len(raw) // 2)]
            enc = f.get("Encoding")
            if enc not in ("Identity-H", "Identity-V"):
                self.bad("6.2.11 fonts", "font /%s: encoding %r is not checked" % (name, enc))
            return {"kind": "cid", "name": name, "w": w, "dw": desc.get("DW", 1000),
                    "metrics": metrics, "gmap": gmap}
        fd = pdf.get(f.get("FontDescriptor")) or {}
        if not any(k in fd for k in ("FontFile", "FontFile2", "FontFile3")):
            self.bad("6.2.11 fonts", "font /%s (%s %s) is not embedded" % (name, st, f.get("BaseFont")))
            return None
        return {"kind": "simple", "name": name}

    def check_show(self, fname, fonts, strings, where):
        if fname is None:
            self.bad("6.2.10 operators", "%s: text shown without a font" % where)
            return
        fi = self.font_info(fname, fonts)
        if fi is None:
            return
        if fi["kind"] == "type3":
            for s in strings:
                for code in s:
                    self.glyphs_checked += 1
                    if code not in fi["adv"]:
                        self.bad("6.2.11.8 notdef", "%s: Type 3 font /%s code %d has no CharProc"
                                 % (where, fname, code))
                        continue
                    k = code - fi["first"]
                    wv = self.pdf.get(fi["widths"][k]) if 0 <= k < len(fi["widths"]) else None
                    a = fi["adv"][code]
                    if wv is None or a is None or abs(wv - a) > max(1e-3, abs(a) * 1e-4):
                        self.bad("6.2.11.5 widths", "%s: Type 3 font /%s code %d: /Widths %r, d0/d1 %r"
                                 % (where, fname, code, wv, a))
            return
        if fi["kind"] != "cid":
            return
        m = fi["metrics"]
        for s in strings:
            for i in range(0, len(s) - 1, 2):
                cid = (s[i] << 8) | s[i + 1]
                gid = cid if fi["gmap"] is None else (fi["gmap"][cid] if cid < len(fi["gmap"]) else 0)
                self.glyphs_checked += 1
                if gid == 0 or (m and gid >= m[1]):
                    self.bad("6.2.11.8 notdef", "%s: font /%s shows CID %d = .notdef (GID %d)"
                             % (where, fname, cid, gid))
                    continue
                if m:
                    upem, _, adv, last = m
                    a = adv[gid] if gid < len(adv) else last
                    expect = a * 1000.0 / upem
                    have = fi["w"].get(cid, fi["dw"])
                    if abs(have - expect) > 1:
                        self.bad("6.2.11.5 widths", "%s: font /%s CID %d: /W %r, font program %.1f"
                                 % (where, fname, cid, have, expect))


def pdf_date(s):
    """D:YYYYMMDDHHmmSS+HH'mm' → (utc tuple) for comparison."""
    if not s:
        return None
    m = re.match(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?", s)
    if not m:
        return None
    return norm_date(m.groups()[:6], m.group(7))


def xmp_date(s):
    m = re.match(r"(\d{4})-?(\d{2})?-?(\d{2})?T?(\d{2})?:?(\d{2})?:?(\d{2})?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?", s)
    if not m:
        return None
    return norm_date(m.groups()[:6], m.group(7))


def norm_date(parts, tz):
    import datetime
    y, mo, d, h, mi, se = [int(p) if p else (1 if i in (1, 2) else 0) for i, p in enumerate(parts)]
    t = datetime.datetime(y, mo, d, h, mi, se)
    if tz and tz != "Z":
        digits = re.sub(r"[^0-9]", "", tz)
        off = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        t = t - off if tz[0] == "+" else t + off
    return t


def check_file(path):
    data = open(path, "rb").read()
    try:
        pdf = PDF(data)
    except (ParseError, ValueError, IndexError, KeyError, zlib.error) as e:
        return ["cannot parse: %s" % e], 0, 0
    c = Checker(pdf)
    try:
        c.run()
    except (ParseError, ValueError, IndexError, KeyError, zlib.error) as e:
        c.bad("parse", "checker stopped: %r" % e)
    msgs = []
    for rule, m in c.problems:
        s = "%s: %s" % (rule, m)
        if s not in msgs:
            msgs.append(s)
    return msgs, len(pdf.objects), c.glyphs_checked


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        print("\nrules:")
        for k, v in RULES.items():
            print("  %-20s %s" % (k, v))
        return 0 if len(argv) >= 2 else 2
    failed = 0
    for path in argv[1:]:
        msgs, nobj, glyphs = check_file(path)
        if msgs:
            failed += 1
            for m in msgs[:50]:
                print("%s: %s" % (path, m))
            if len(msgs) > 50:
                print("%s: ... %d more" % (path, len(msgs) - 50))
        else:
            print("%s: ok (%d objects, %d glyphs checked, %d rule groups)" % (path, nobj, glyphs, len(RULES)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
