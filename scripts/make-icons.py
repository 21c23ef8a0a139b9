#!/usr/bin/env python3
"""Draws the app icon (a white map pin on blue, rounded square) as RGBA PNGs in assets/icons.
Standard library only, so it runs anywhere: python3 scripts/make-icons.py"""
import math
import os
import struct
import zlib

BLUE = (0, 83, 179, 255)  # 7:1 contrast with white
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)


def pixel(x, y, size):
    r = size * 0.18
    dx = max(r - x, 0, x - (size - r))
    dy = max(r - y, 0, y - (size - r))
    if dx * dx + dy * dy > r * r:
        return CLEAR
    hx, hy, hr, tip = size * 0.5, size * 0.42, size * 0.2, size * 0.82
    d = math.hypot(x - hx, y - hy)
    in_tail = hy <= y <= tip and abs(x - hx) <= hr * (tip - y) / (tip - hy)
    if d <= hr * 0.42:
        return BLUE
    if d <= hr or in_tail:
        return WHITE
    return BLUE


def png(path, size):
    rows = bytearray()
    for y in range(size):
        rows.append(0)
        for x in range(size):
            rows += bytes(pixel(x + 0.5, y + 0.5, size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "assets", "icons")
    os.makedirs(out, exist_ok=True)
    for s in (32, 128, 192, 256, 512):
        png(os.path.join(out, f"icon-{s}.png"), s)
    png(os.path.join(out, "icon.png"), 512)
    # The one source of the native app's icons, at every size the stores and desktops need:
    # node_modules/.bin/tauri icon assets/icons/icon-1024.png -o mobile/src-tauri/icons
    png(os.path.join(out, "icon-1024.png"), 1024)
