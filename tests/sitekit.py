"""Helpers for the documentation-site tests: the internal links of a built site, and a PNG reader."""

from __future__ import annotations

import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) is not None:
                self.hrefs.append(a[key])


def parse_page(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def broken_links(site: Path) -> list[str]:
    """Every internal link (href/src) of every page of ``site`` whose file or fragment does not exist."""
    pages = {p.resolve(): parse_page(p) for p in site.rglob("*.html")}
    bad = []
    for page, parsed in pages.items():
        for href in parsed.hrefs:
            u = urlsplit(href)
            if u.scheme in ("data",):
                continue
            if u.scheme or u.netloc:
                bad.append(f"{page.name}: external link {href}")
                continue
            target = (page.parent / unquote(u.path)).resolve() if u.path else page
            if not target.is_file():
                bad.append(f"{page.name}: {href} (no such file)")
                continue
            if u.fragment:
                ids = pages[target].ids if target in pages else set()
                if unquote(u.fragment) not in ids:
                    bad.append(f"{page.name}: {href} (no element with this id)")
    return bad


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    w = h = 0
    bpp = 4
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, "only 8-bit non-interlaced PNGs"
            bpp = {2: 3, 6: 4, 0: 1, 4: 2}[color]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def ink_fraction(data: bytes) -> float:
    """The share of pixels of a PNG that are not (nearly) white: 0.0 for a blank image."""
    w, h, rows = png_pixels(data)
    bpp = len(rows[0]) // w if rows and w else 3
    inked = total = 0
    for row in rows[::2]:
        for x in range(0, w * bpp, bpp * 2):
            total += 1
            if min(row[x:x + 3]) < 235:
                inked += 1
    return inked / total if total else 0.0
