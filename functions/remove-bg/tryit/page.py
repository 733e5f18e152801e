"""The try-it page: one self-contained HTML file (no outside assets), served at GET /.

It posts to `remove-background` relative to its own address, so it works at the function's root
and under a gateway's /function/remove-bg/ alike.
"""

from __future__ import annotations

from pathlib import Path

HTML = (Path(__file__).parent / "page.html").read_bytes()
# Everything the page needs is inline or its own blob: URLs; nothing may load from elsewhere.
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src 'self' blob:; connect-src 'self'; form-action 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}
