"""Hostile request bodies, made on the fly: bombs, lying headers, truncations, odd modes, non-images.

Each case is (name, body, content type). Nothing here is checked in as a binary: every body is
written by Pillow, pillow-heif or by hand from the formats' specifications.
"""

from __future__ import annotations

import base64
import io
import json
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from urllib.parse import urlencode

from PIL import Image

from function.request.intake import URLENCODED
from function.request.routes import PIXIAN_PATH, REMOVEBG_PATH
from harness.pngs import chunk, header_claiming, raw_png
from tests.support import attacks, images

Case = tuple[str, Callable[[], bytes], str]
OCTETS = "application/octet-stream"
# The cases that keep a decoder or an encoder at work for seconds, up to the pod's bound: marked slow, so
# `make test` runs them and the quick loop (`make check`) leaves them out. A name here that names no case
# fails tests/test_hostile.py.
SLOW = frozenset(
    {
        "PNG zlib bomb 49 MP",
        "GIF 3000 frames",
        "JPEG progressive 7000x7000, 500 repeated scans",
        "JPEG progressive 7000x7000, 2500 repeated scans",
        "JPEG behind 30 MB of empty APP0 segments",
        "GIF behind 30 MB of one-byte sub-blocks",
        "GIF 7000x7000 screen, 2000 1x1 frames",
        "TIFF 7000x7000 in 16x16 tiles, one tile's bytes",
        "TIFF 7000x7000 of 3.7 million strips",
        "TIFF LZW bomb 7000x7000",
        "TIFF PackBits bomb 7000x7000",
        "TIFF Deflate bomb 7000x7000",
        "AVIF 8000x6000 in 1 KB",
        "APNG 7000x7000, 1000 1x1 frames",
        "JPEG with a 16 MB ICC profile",
        "JPEG behind 440 64 KB EXIF and XMP segments",
        "AVIF 8000x6000 with ispe 64x64",
        "HEIC 3000x3000 with ispe 64x64",
        "WebP lossy 50 MP",
        "JPEG CMYK progressive 7000x7000",
        "JPEG YCCK progressive 7000x7000",
        "urlencoded base64 zlib bomb",
        "lossy WebP answer past libwebp's 512 KB first partition",
    }
)


def _png_with(extra: list[bytes], size: tuple[int, int] = (64, 64)) -> bytes:
    """A small valid RGB PNG with extra chunks put before its IDAT."""
    png = images.encode(images.photo().resize(size), "PNG")
    idat = png.index(b"IDAT") - 4
    return png[:idat] + b"".join(extra) + png[idat:]


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose SOF0 frame header claims another size."""
    data = bytearray(images.jpeg(images.photo().resize((64, 64))))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(images.encode(images.photo().resize((16, 16)).convert("P"), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def _bmp_claiming(width: int, height: int) -> bytes:
    data = bytearray(images.encode(images.photo().resize((16, 16)), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def _tiff_claiming(width: int, height: int) -> bytes:
    """A little-endian baseline TIFF by hand: one 8-bit gray strip of 16 bytes, any size in its tags."""
    strip = b"\x80" * 16
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8), (277, 3, 1)]
    tags += [(278, 4, height), (279, 4, len(strip))]
    entries = b"".join(struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in tags)
    ifd = struct.pack("<H", len(tags)) + entries
    return b"II*\x00" + struct.pack("<I", 8 + len(strip)) + strip + ifd + b"\x00\x00\x00\x00"


def _webp_claiming(width: int, height: int) -> bytes:
    """A lossless WebP (VP8L) whose header claims another size: 14 bits each, minus one."""
    data = bytearray(images.encode(images.photo().resize((16, 16)), "WEBP", lossless=True))
    vp8l = data.index(b"VP8L") + 8  # chunk payload: signature byte, then the packed size
    bits = (width - 1) | ((height - 1) << 14) | (data[vp8l + 4] >> 4 << 28)
    data[vp8l + 1 : vp8l + 5] = struct.pack("<I", bits)
    return bytes(data)


def _heif_lying(fmt: str) -> bytes:
    """A real HEIC or AVIF whose 'ispe' box says 60000×60000."""
    picture = images.photo().resize((64, 64))
    data = bytearray(images.heic(picture) if fmt == "HEIF" else images.encode(picture, "AVIF"))
    ispe = data.index(b"ispe") + 8
    data[ispe : ispe + 8] = struct.pack(">II", 60000, 60000)
    return bytes(data)


def _zlib_bomb_png() -> bytes:
    """49 MP of zeros in 50 KB: inside the limits, so it must be a correct cut-out."""
    return raw_png(7000, 7000, 8, 6, None)


def _iccp_bomb() -> bytes:
    profile = zlib.compress(b"\x00" * 50_000_000, 9)
    return _png_with([chunk(b"iCCP", b"icc\x00\x00" + profile)])


def _ztxt_bomb() -> bytes:
    return _png_with([chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 50_000_000, 9))])


def _big_text() -> bytes:
    return _png_with([chunk(b"tEXt", b"Comment\x00" + b"x" * 5_000_000)])


def _big_exif_png() -> bytes:
    exif = b"MM\x00*\x00\x00\x00\x08" + b"\x00" * 5_000_000
    return _png_with([chunk(b"eXIf", exif)])


def _truncated(body: bytes, fraction: float) -> bytes:
    return body[: max(1, int(len(body) * fraction))]


def _flipped(body: bytes, seed: int, flips: int = 40) -> bytes:
    data = bytearray(body)
    rng = random.Random(seed)
    for _ in range(flips):
        position = rng.randrange(20, len(data))  # past the signature, so the decoder is reached
        data[position] ^= 1 << rng.randrange(8)
    return bytes(data)


def _animated(fmt: str, frames: int) -> bytes:
    base = images.photo().resize((16, 16))
    return images.animated(fmt, [base.rotate(index % 360) for index in range(frames)])


def _multipage_tiff(pages: int) -> bytes:
    base = images.photo().resize((64, 64))
    return images.encode(base, "TIFF", save_all=True, append_images=[base.rotate(i) for i in range(1, pages)])


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", images.jpeg())
    return buffer.getvalue()


def _multipart(parts: list[tuple[str, bytes, str]], boundary: str = "b0undary") -> bytes:
    out = []
    for headers, payload, _ in parts:
        out.append(f"--{boundary}\r\n{headers}\r\n\r\n".encode() + payload + b"\r\n")
    return b"".join(out) + f"--{boundary}--\r\n".encode()


def _file_part(name: str, payload: bytes, extra_headers: str = "") -> tuple[str, bytes, str]:
    headers = f'Content-Disposition: form-data; name="{name}"; filename="x.jpg"\r\nContent-Type: image/jpeg'
    return (headers + extra_headers, payload, "")


MULTIPART = "multipart/form-data; boundary=b0undary"

BODY_CASES: list[Case] = [
    ("PNG header 100000x100000", lambda: header_claiming(100_000, 100_000), OCTETS),
    ("PNG header 2^31-1 wide", lambda: header_claiming(2**31 - 1, 1), OCTETS),
    ("JPEG SOF 65535x65535", lambda: jpeg_claiming(65535, 65535), OCTETS),
    ("GIF screen 65535x65535", lambda: _gif_claiming(65535, 65535), OCTETS),
    ("BMP header 30000x30000", lambda: _bmp_claiming(30000, 30000), OCTETS),
    ("BMP header negative size", lambda: _bmp_claiming(-30000, -30000), OCTETS),
    ("TIFF tags 40000x40000", lambda: _tiff_claiming(40000, 40000), OCTETS),
    ("WebP VP8L 16384x16384", lambda: _webp_claiming(16384, 16384), OCTETS),
    (
        "WebP lossless behind 70 unknown chunks",
        lambda: images.webp_behind_chunks(images.extended_webp(images.photo(), lossless=True, method=0), 70),
        OCTETS,
    ),
    (
        "WebP lossless behind 5000 chunks",
        lambda: images.webp_behind_chunks(images.extended_webp(images.photo(), lossless=True, method=0), 5000),
        OCTETS,
    ),
    ("HEIC ispe 60000x60000", lambda: _heif_lying("HEIF"), OCTETS),
    ("AVIF ispe 60000x60000", lambda: _heif_lying("AVIF"), OCTETS),
    ("PNG zlib bomb 49 MP", _zlib_bomb_png, OCTETS),
    ("PNG of a million empty chunks", lambda: _png_with([chunk(b"abCd", b"")] * 1_000_000), OCTETS),
    ("PNG iCCP zlib bomb", _iccp_bomb, OCTETS),
    ("PNG zTXt zlib bomb", _ztxt_bomb, OCTETS),
    ("PNG 5 MB tEXt", _big_text, OCTETS),
    ("PNG 5 MB eXIf", _big_exif_png, OCTETS),
    ("JPEG truncated at 10%", lambda: _truncated(images.jpeg(), 0.1), OCTETS),
    ("JPEG truncated at 50%", lambda: _truncated(images.jpeg(), 0.5), OCTETS),
    ("JPEG truncated at 99%", lambda: _truncated(images.jpeg(), 0.99), OCTETS),
    ("PNG truncated at 50%", lambda: _truncated(images.encode(images.photo(), "PNG"), 0.5), OCTETS),
    ("WebP truncated at 50%", lambda: _truncated(images.encode(images.photo(), "WEBP"), 0.5), OCTETS),
    ("HEIC truncated at 50%", lambda: _truncated(images.heic(images.photo()), 0.5), OCTETS),
    ("JPEG bit flips", lambda: _flipped(images.jpeg(), 1), OCTETS),
    ("PNG bit flips", lambda: _flipped(images.encode(images.photo(), "PNG"), 2), OCTETS),
    ("WebP bit flips", lambda: _flipped(images.encode(images.photo(), "WEBP"), 3), OCTETS),
    ("PNG body behind JPEG magic", lambda: b"\xff\xd8\xff" + images.encode(images.photo(), "PNG")[3:], OCTETS),
    ("GIF magic alone", lambda: b"GIF89a", OCTETS),
    ("PNG 0x0", lambda: header_claiming(0, 0), OCTETS),
    ("PNG 1x1", lambda: images.encode(Image.new("RGB", (1, 1), "red"), "PNG"), OCTETS),
    ("PNG 30000x1 strip", lambda: images.encode(Image.new("RGB", (30000, 1), "red"), "PNG"), OCTETS),
    ("PNG 1x30000 strip", lambda: images.encode(Image.new("RGB", (1, 30000), "red"), "PNG"), OCTETS),
    ("JPEG CMYK", lambda: images.encode(images.photo().convert("CMYK"), "JPEG"), OCTETS),
    ("PNG 16-bit RGB", lambda: images.png16_rgb(images.photo()), OCTETS),
    ("PNG palette with tRNS", lambda: images.encode(images.photo().convert("P"), "PNG", transparency=0), OCTETS),
    ("GIF 3000 frames", lambda: _animated("GIF", 3000), OCTETS),
    ("WebP 2000 frames", lambda: _animated("WEBP", 2000), OCTETS),
    ("TIFF 200 pages", lambda: _multipage_tiff(200), OCTETS),
    ("TIFF LZW", lambda: images.encode(images.photo(), "TIFF", compression="tiff_lzw"), OCTETS),
    ("TIFF PackBits", lambda: images.encode(images.photo(), "TIFF", compression="packbits"), OCTETS),
    ("TIFF JPEG", lambda: images.encode(images.photo(), "TIFF", compression="jpeg"), OCTETS),
    ("TIFF 1-bit G4", lambda: images.encode(images.photo().convert("1"), "TIFF", compression="group4"), OCTETS),
    ("SVG", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="9e9" height="9e9"/>', "image/svg+xml"),
    ("PDF", lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "application/pdf"),
    ("HTML", lambda: b"<!doctype html><html><body><img src=x></body></html>", "text/html"),
    ("ZIP of a JPEG", _zip, "application/zip"),
    ("multipart without boundary", lambda: _multipart([_file_part("image", images.jpeg())]), "multipart/form-data"),
    ("multipart with 200 parts", lambda: _multipart([_file_part(f"f{i}", b"x") for i in range(200)]), MULTIPART),
    (
        "multipart with a 200 KB part header",
        lambda: _multipart([_file_part("image", images.jpeg(), "\r\nX-Pad: " + "p" * 200_000)]),
        MULTIPART,
    ),
    (
        "multipart with duplicate image fields",
        lambda: _multipart([_file_part("image", images.jpeg()), _file_part("image", b"not an image")]),
        MULTIPART,
    ),
    ("multipart never closed", lambda: _multipart([_file_part("image", images.jpeg())])[:-12], MULTIPART),
    # Issue 30: cheap to send, dear to parse; each within the header checks' limits.
    ("JPEG progressive 7000x7000, 500 repeated scans", lambda: attacks.progressive_jpeg_scans(500), OCTETS),
    ("JPEG progressive 7000x7000, 2500 repeated scans", lambda: attacks.progressive_jpeg_scans(2500), OCTETS),
    ("JPEG behind 30 MB of empty APP0 segments", attacks.jpeg_app0_flood, OCTETS),
    ("GIF behind 30 MB of one-byte sub-blocks", attacks.gif_one_byte_subblocks, OCTETS),
    ("WebP lossy 50 MP", lambda: attacks.lossy_webp(7071), OCTETS),
    (
        "GIF 7000x7000 screen, 2000 1x1 frames",
        lambda: attacks.gif_screen_with_frames((7000, 7000), (1, 1), 2000),
        OCTETS,
    ),
    ("GIF 1x1 screen, a 1000x1000 frame", lambda: attacks.gif_screen_with_frames((1, 1), (1000, 1000), 1), OCTETS),
    ("TIFF 7000x7000 in 148 bytes, Deflate", lambda: attacks.tiff_tiny(8), OCTETS),
    ("TIFF 7000x7000 in 138 bytes, PackBits", lambda: attacks.tiff_tiny(32773), OCTETS),
    ("TIFF 7000x7000 in 126 bytes, LZW", lambda: attacks.tiff_tiny(5), OCTETS),
    ("TIFF 7000x7000 in 16x16 tiles, one tile's bytes", lambda: attacks.tiff_tiles(16), OCTETS),
    ("TIFF 7000x7000 of 3.7 million strips", lambda: attacks.tiff_many_strips(3_700_000), OCTETS),
    ("TIFF chain of 10000 IFDs", lambda: attacks.tiff_ifd_chain(10_000, loop=False), OCTETS),
    ("TIFF IFD naming itself as next", lambda: attacks.tiff_ifd_chain(0, loop=True), OCTETS),
    ("TIFF LZW bomb 7000x7000", lambda: attacks.tiff_bomb("tiff_lzw"), OCTETS),
    ("TIFF PackBits bomb 7000x7000", lambda: attacks.tiff_bomb("packbits"), OCTETS),
    ("TIFF Deflate bomb 7000x7000", lambda: attacks.tiff_bomb("tiff_adobe_deflate"), OCTETS),
    ("AVIF 8000x6000 in 1 KB", lambda: attacks.heif_large("AVIF", (8000, 6000), None), OCTETS),
    ("AVIF 8000x6000 with ispe 64x64", lambda: attacks.heif_large("AVIF", (8000, 6000), (64, 64)), OCTETS),
    ("HEIC 3000x3000 with ispe 64x64", lambda: attacks.heif_large("HEIF", (3000, 3000), (64, 64)), OCTETS),
    ("WebP 7000x7000 canvas, 1000 16x16 frames", lambda: attacks.webp_canvas((7000, 7000), 1000), OCTETS),
    ("APNG 7000x7000, 1000 1x1 frames", lambda: attacks.apng((7000, 7000), 1000), OCTETS),
    ("JPEG with a 16 MB ICC profile", lambda: attacks.jpeg_icc(16), OCTETS),
    ("JPEG behind 440 64 KB EXIF and XMP segments", lambda: attacks.jpeg_app1_flood(440), OCTETS),
    ("PNG eXIf of 65535 entries", lambda: attacks.png_exif_entries(65535), OCTETS),
    ("PNG 1000 zTXt of 1 MB each", lambda: attacks.png_text_bombs(b"zTXt", 1000, 1), OCTETS),
    ("PNG iTXt zlib bomb", lambda: attacks.png_text_bombs(b"iTXt", 1, 50), OCTETS),
    ("MPO of 500 frames", lambda: attacks.mpo(500), OCTETS),
    ("JPEG CMYK progressive 7000x7000", lambda: attacks.cmyk_progressive(7000, ycck=False), OCTETS),
    ("JPEG YCCK progressive 7000x7000", lambda: attacks.cmyk_progressive(7000, ycck=True), OCTETS),
]


def _b64(payload: bytes) -> str:
    return base64.b64encode(payload).decode()


def _urlencoded(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


# (name, path and query, body, content type): the compatible routes' own parsers, and options
# that ask for outputs far larger than any input.
ROUTE_CASES: list[tuple[str, str, Callable[[], bytes], str]] = [
    ("JSON nested 200000 deep", REMOVEBG_PATH, lambda: b"[" * 200_000 + b"]" * 200_000, "application/json"),
    (
        "JSON of the wrong types",
        REMOVEBG_PATH,
        lambda: b'{"image_file_b64": [1, {"a": null}], "size": 7}',
        "application/json",
    ),
    (
        "JSON base64 pixel bomb",
        REMOVEBG_PATH,
        lambda: json.dumps({"image_file_b64": _b64(jpeg_claiming(65535, 65535))}).encode(),
        "application/json",
    ),
    (
        "JSON 5 MB of not-base64",
        REMOVEBG_PATH,
        lambda: json.dumps({"image_file_b64": "@" * 5_000_000}).encode(),
        "application/json",
    ),
    ("urlencoded 20000 fields", PIXIAN_PATH, lambda: _urlencoded({f"f{i}": "x" for i in range(20_000)}), URLENCODED),
    (
        "urlencoded base64 zlib bomb",
        PIXIAN_PATH,
        lambda: _urlencoded({"image.base64": _b64(_zlib_bomb_png())}),
        URLENCODED,
    ),
    (
        "Pixian image as a text part",
        PIXIAN_PATH,
        lambda: _multipart([('Content-Disposition: form-data; name="image"', images.jpeg(), "")]),
        MULTIPART,
    ),
    (
        "Pixian 65535x65535 target, WebP-sized",
        PIXIAN_PATH + "?result.target_size=65535+65535&result.margin=100%25",
        images.jpeg,
        "image/jpeg",
    ),
    (
        "10000 px margins on a 1x1 image",
        "/?margin=10000px&format=webp",
        lambda: images.encode(Image.new("RGB", (1, 1)), "PNG"),
        OCTETS,
    ),
    (
        "colours past 255 as CSS functions write them",
        "/?bg_color=rgb(99999999999999999999,0,0)&format=jpeg",
        images.jpeg,
        OCTETS,
    ),
    ("a colour below 0 from hsv()", PIXIAN_PATH + "?background.color=hsv(0,999%25,50%25)", images.jpeg, "image/jpeg"),
    (
        "every option at its edge",
        "/?format=jpeg&quality=1&bg_color=%2300000000&crop=1&margin=100%25&max_pixels=100",
        images.jpeg,
        OCTETS,
    ),
    (
        "remove.bg zip of a 30000x1 strip",
        REMOVEBG_PATH + "?format=zip",
        lambda: images.encode(Image.new("RGB", (30000, 1), "red"), "PNG"),
        OCTETS,
    ),
    ("Pixian image.base64 as 30 MB of tokens, urlencoded", PIXIAN_PATH, attacks.base64_tokens_urlencoded, URLENCODED),
    ("Pixian image.base64 as 30 MB of tokens, multipart", PIXIAN_PATH, attacks.base64_tokens_multipart, MULTIPART),
    ("remove.bg JSON of ten million empty objects", REMOVEBG_PATH, attacks.json_empty_objects, "application/json"),
    # A lossy WebP answer of a detailed 49 MP picture at quality 90: libwebp's first partition overflows.
    (
        "lossy WebP answer past libwebp's 512 KB first partition",
        "/?format=webp&quality=90",
        lambda: attacks.tiled_noise(7000),
        "image/png",
    ),
]
