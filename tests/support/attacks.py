"""Bodies that are cheap to send and dear to parse: what no header check foresees (issue 30's cases and more).

Each maker writes its body with Pillow, pillow-heif or struct from the format's specification, once a
session (they take up to a second and some are 30 MB). Sizes stay under the server's 30 MB body limit:
each must reach the decoder, not the transport's 413.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from functools import cache

import pillow_heif
from PIL import Image

from harness.pngs import SIGNATURE, chunk, raw_png
from tests.support import images

BODY_LIMIT = 30_000_000
ROOM = 100_000  # left under the limit for a form's other bytes
SIDE = 7000  # 49 MP: within the default 50 MP input limit, so the header checks let it through


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """A JPEG's (marker, bytes) pieces after SOI; a scan's piece holds its entropy-coded data."""
    pieces, position = [], 2
    while position < len(data):
        marker = data[position + 1]
        if marker == 0xD9:  # EOI
            pieces.append((marker, data[position : position + 2]))
            break
        end = position + 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
        if marker == 0xDA:  # SOS: the scan runs to the next marker that is not a stuffed byte or a restart
            end = data.index(b"\xff", end)
            while data[end + 1] == 0 or 0xD0 <= data[end + 1] <= 0xD7:
                end = data.index(b"\xff", end + 2)
        pieces.append((marker, data[position:end]))
        position = end
    return pieces


@cache
def progressive_jpeg_scans(extra: int) -> bytes:
    """A 7000×7000 gray progressive JPEG with one of its AC scans repeated `extra` times more: libjpeg decodes
    every scan over the whole picture, a few dozen bytes each (the issue's 241 KB and 388 KB files)."""
    data = images.encode(Image.new("L", (SIDE, SIDE), 128), "JPEG", progressive=True, quality=50)
    pieces = jpeg_segments(data)
    ac_scan = next(piece for marker, piece in pieces if marker == 0xDA and piece[7] != 0)  # Ss > 0: an AC scan
    return b"\xff\xd8" + b"".join(piece for _, piece in pieces[:-1]) + ac_scan * extra + pieces[-1][1]


@cache
def jpeg_app0_flood() -> bytes:
    """30 MB of empty APP0 segments (4 bytes each) before a small real JPEG's own segments."""
    photo = images.jpeg(images.photo().resize((64, 64)))
    count = (BODY_LIMIT - ROOM - len(photo)) // 4
    return b"\xff\xd8" + b"\xff\xe0\x00\x02" * count + photo[2:]


@cache
def gif_one_byte_subblocks() -> bytes:
    """A small GIF with a 30 MB comment extension cut into one-byte sub-blocks before its picture."""
    gif = images.encode(images.photo().resize((64, 64)).convert("P"), "GIF")
    picture = gif.index(b"\x2c")  # the image descriptor, after the 13-byte screen and the 768-byte palette
    count = (BODY_LIMIT - ROOM - len(gif)) // 2
    return gif[:picture] + b"\x21\xfe" + b"\x01x" * count + b"\x00" + gif[picture:]


@cache
def gif_screen_with_frames(screen: tuple[int, int], frame: tuple[int, int], frames: int) -> bytes:
    """A GIF by hand: a logical screen of one size, `frames` frames of another, each one LZW-coded colour."""
    width, height = screen
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    pixels = frame[0] * frame[1]
    codes = _lzw_one_colour(pixels)
    blocks = b"".join(bytes([len(codes[i : i + 255])]) + codes[i : i + 255] for i in range(0, len(codes), 255))
    one = b"\x2c" + struct.pack("<HHHHB", 0, 0, frame[0], frame[1], 0) + b"\x02" + blocks + b"\x00"
    return header + one * frames + b"\x3b"


def _lzw_one_colour(pixels: int) -> bytes:
    """GIF LZW (minimum code size 2) for `pixels` of colour 0, as a clear code then one literal per pixel
    with a clear before the table fills: correct, not compact (the frames here are small)."""
    bits, value, out = 0, 0, bytearray()

    def emit(code: int) -> None:
        nonlocal bits, value
        value |= code << bits
        bits += 3
        while bits >= 8:
            out.append(value & 0xFF)
            value >>= 8
            bits -= 8

    emit(4)  # clear: three-bit codes while the table holds fewer than 8 entries
    for index in range(pixels):
        if index and index % 2 == 0:
            emit(4)  # clear again, so the code size stays at three bits
        emit(0)
    emit(5)  # end of information
    if bits:
        out.append(value & 0xFF)
    return bytes(out)


@cache
def lossy_webp(side: int) -> bytes:
    """A lossy WebP of side×side (~230 KB at 7071, the 50 MP limit, which lossy WebP gets in full)."""
    noise = Image.effect_noise((side // 48, side // 48), 30).resize((side, side)).convert("RGB")
    return images.encode(noise, "WEBP", quality=1, method=0)


@cache
def base64_tokens_urlencoded() -> bytes:
    """Pixian's image.base64 as 30 MB of one-character tokens, spaces between (urlencoded as '+')."""
    count = (BODY_LIMIT - ROOM) // 2
    return b"image.base64=" + b"Q+" * count


@cache
def base64_tokens_multipart() -> bytes:
    count = (BODY_LIMIT - ROOM) // 2
    head = b'--b0undary\r\nContent-Disposition: form-data; name="image.base64"\r\n\r\n'
    return head + b"Q " * count + b"\r\n--b0undary--\r\n"


@cache
def json_empty_objects() -> bytes:
    """remove.bg's JSON body: an object whose one field holds ten million empty objects (29.9 MB)."""
    count = (BODY_LIMIT - ROOM) // 3
    return b'{"image_file_b64": [' + b"{}," * (count - 1) + b"{}]}"


def _tiff(entries: list[tuple[int, int, int, bytes]], data: bytes = b"", next_ifd: int = 0) -> bytes:
    """A little-endian TIFF: `data` right after the header, then one IFD of (tag, type, count, value) whose
    values are given packed; those over 4 bytes go after the IFD. Offsets in `data` count from 8."""
    entries = sorted(entries)
    ifd_at = 8 + len(data)
    extra_at = ifd_at + 2 + 12 * len(entries) + 4
    table, extra = b"", b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            table += struct.pack("<HHII", tag, kind, count, extra_at + len(extra))
            extra += value + b"\x00" * (len(value) % 2)
    ifd = struct.pack("<H", len(entries)) + table + struct.pack("<I", next_ifd)
    return b"II*\x00" + struct.pack("<I", ifd_at) + data + ifd + extra


def _short(value: int) -> bytes:
    return struct.pack("<H", value)


def _long(value: int) -> bytes:
    return struct.pack("<I", value)


def _tiff_gray(width: int, height: int, compression: int, strip: bytes, rows: int | None = None) -> list:
    """The tags of an 8-bit gray TIFF whose one strip is `strip`, at offset 8."""
    return [
        (256, 4, 1, _long(width)),
        (257, 4, 1, _long(height)),
        (258, 3, 1, _short(8)),
        (259, 3, 1, _short(compression)),
        (262, 3, 1, _short(1)),
        (273, 4, 1, _long(8)),
        (277, 3, 1, _short(1)),
        (278, 4, 1, _long(rows or height)),
        (279, 4, 1, _long(len(strip))),
    ]


@cache
def tiff_tiny(compression: int) -> bytes:
    """A TIFF of ~155 bytes claiming 7000×7000 in one strip of a few bytes under `compression`
    (8: Deflate, 32773: PackBits, 5: LZW): the whole picture is allocated before the strip runs out."""
    strip = {8: zlib.compress(b"\x00" * 4096, 9), 32773: b"\x81\x00" * 8, 5: b"\x80\x00\x20\x10"}[compression]
    return _tiff(_tiff_gray(SIDE, SIDE, compression, strip), strip)


@cache
def tiff_tiles(tile: int) -> bytes:
    """7000×7000 in `tile`-pixel tiles, every tile offset pointing at the same few bytes."""
    tiles = math.ceil(SIDE / tile) ** 2
    data = b"\x80" * (tile * tile)
    entries = [entry for entry in _tiff_gray(SIDE, SIDE, 1, data) if entry[0] not in (273, 278, 279)]
    entries += [
        (322, 3, 1, _short(tile)),
        (323, 3, 1, _short(tile)),
        (324, 4, tiles, _long(8) * tiles),
        (325, 4, tiles, _long(len(data)) * tiles),
    ]
    return _tiff(entries, data)


@cache
def tiff_many_strips(count: int) -> bytes:
    """A 7000×7000 raw gray TIFF of `count` strips (one row each would be 7000): every offset the same."""
    data = b"\x80" * SIDE
    entries = [entry for entry in _tiff_gray(SIDE, SIDE, 1, data) if entry[0] not in (273, 278, 279)]
    entries += [(273, 4, count, _long(8) * count), (278, 4, 1, _long(1)), (279, 4, count, _long(SIDE) * count)]
    return _tiff(entries, data)


@cache
def tiff_ifd_chain(count: int, loop: bool) -> bytes:
    """A small gray TIFF followed by `count` more IFDs in a chain, or one IFD that names itself as next."""
    strip = b"\x80" * 64
    first = _tiff(_tiff_gray(8, 8, 1, strip), strip)
    if loop:
        ifd_at = struct.unpack("<I", first[4:8])[0]
        next_at = ifd_at + 2 + 12 * 9
        return first[:next_at] + _long(ifd_at) + first[next_at + 4 :]
    ifds, at = [], len(first)
    size = 2 + 12 * 9 + 4
    for index in range(count):
        nxt = at + size if index + 1 < count else 0
        ifd = _tiff(_tiff_gray(8, 8, 1, strip), strip)
        body = ifd[struct.unpack("<I", ifd[4:8])[0] :]
        ifds.append(body[: size - 4] + _long(nxt))
        at += size
    ifd_at = struct.unpack("<I", first[4:8])[0]
    linked = first[: ifd_at + size - 4] + _long(len(first)) + first[ifd_at + size :]
    return linked + b"".join(ifds)


@cache
def tiff_bomb(compression: str) -> bytes:
    """7000×7000 RGB of zeros written by libtiff in `compression` (tiff_lzw, packbits, tiff_adobe_deflate)."""
    return images.encode(Image.new("RGB", (SIDE, SIDE)), "TIFF", compression=compression)


def _patch_box_size(data: bytes, box: bytes, width: int, height: int) -> bytes:
    at = data.index(box) + 8  # past the box type and its version and flags
    return data[:at] + struct.pack(">II", width, height) + data[at + 8 :]


@cache
def heif_large(fmt: str, size: tuple[int, int], ispe: tuple[int, int] | None) -> bytes:
    """A flat HEIC or AVIF of `size` (a few KB), its 'ispe' box rewritten to `ispe` when given."""
    picture = Image.new("RGB", size, (90, 120, 150))
    buffer = io.BytesIO()
    if fmt == "AVIF":
        picture.save(buffer, "AVIF", quality=10, speed=10)
    else:
        pillow_heif.from_pillow(picture).save(buffer, format="HEIF", quality=10)
    data = buffer.getvalue()
    return data if ispe is None else _patch_box_size(data, b"ispe", *ispe)


@cache
def webp_canvas(canvas: tuple[int, int], frames: int) -> bytes:
    """An animated WebP of `frames` 16×16 frames whose VP8X canvas is rewritten to `canvas`."""
    data = bytearray(images.animated("WEBP", [Image.new("RGB", (16, 16), (i % 256, 0, 0)) for i in range(frames)]))
    vp8x = data.index(b"VP8X") + 8 + 4  # flags (4 bytes), then width - 1 and height - 1 in 24 bits each
    data[vp8x : vp8x + 6] = (canvas[0] - 1).to_bytes(3, "little") + (canvas[1] - 1).to_bytes(3, "little")
    return bytes(data)


@cache
def apng(canvas: tuple[int, int], frames: int) -> bytes:
    """An APNG by hand: a zero default image of `canvas`, then `frames` 1×1 frames at its far corner."""
    width, height = canvas
    default = raw_png(width, height, 8, 2, None)
    idat = default[default.index(b"IHDR") - 4 : default.index(b"IEND") - 4]
    parts = [SIGNATURE, idat[: 12 + 13]]  # IHDR
    parts.append(chunk(b"acTL", struct.pack(">II", frames + 1, 0)))
    parts.append(chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, width, height, 0, 0, 1, 10, 0, 0)))
    parts.append(idat[12 + 13 :])  # the default image's IDAT, frame 0
    pixel = zlib.compress(b"\x00\xff\x00\x00")
    for index in range(frames):
        sequence = 1 + 2 * index
        control = struct.pack(">IIIIIHHBB", sequence, 1, 1, width - 1, height - 1, 1, 10, 0, 0)
        parts += [chunk(b"fcTL", control), chunk(b"fdAT", struct.pack(">I", sequence + 1) + pixel)]
    return b"".join(parts) + chunk(b"IEND", b"")


@cache
def jpeg_icc(megabytes: int) -> bytes:
    """A small JPEG with an ICC profile of `megabytes` MB of junk, in as many APP2 chunks as that takes (≤ 255)."""
    return images.jpeg(images.photo().resize((64, 64)), icc_profile=b"\x00" * (megabytes * 1_000_000))


@cache
def jpeg_app1_flood(count: int) -> bytes:
    """A small JPEG behind `count` 64 KB APP1 segments, EXIF and XMP in turn."""
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08" + b"\x00" * 65000
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + b" " * 65000 + b"</x:xmpmeta>"
    segments = [b"\xff\xe1" + struct.pack(">H", len(p) + 2) + p for p in (exif, xmp)]
    photo = images.jpeg(images.photo().resize((64, 64)))
    return b"\xff\xd8" + b"".join(segments[i % 2] for i in range(count)) + photo[2:]


@cache
def png_exif_entries(count: int) -> bytes:
    """A PNG whose eXIf holds one IFD of `count` entries (each a SHORT orientation): all parsed by getexif."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, 1, 0)
    exif = b"MM\x00*\x00\x00\x00\x08" + struct.pack(">H", min(count, 65535)) + entry * count + b"\x00" * 4
    return _png_before_idat([chunk(b"eXIf", exif)])


def _png_before_idat(extra: list[bytes]) -> bytes:
    png = images.encode(images.photo().resize((64, 64)), "PNG")
    idat = png.index(b"IDAT") - 4
    return png[:idat] + b"".join(extra) + png[idat:]


@cache
def png_text_bombs(kind: bytes, count: int, megabytes: int) -> bytes:
    """`count` compressed text chunks (zTXt or iTXt) of `megabytes` MB each once inflated."""
    text = zlib.compress(b"A" * (megabytes * 1_000_000), 9)
    body = b"Comment\x00\x00" + text if kind == b"zTXt" else b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + text
    return _png_before_idat([chunk(kind, body)] * count)


@cache
def mpo(frames: int) -> bytes:
    """A multi-picture JPEG (MPO) of `frames` 64×64 pictures."""
    base = images.photo().resize((64, 64))
    return images.encode(base, "MPO", save_all=True, append_images=[base.rotate(i) for i in range(1, frames)])


@cache
def cmyk_progressive(side: int, ycck: bool) -> bytes:
    """A flat CMYK progressive JPEG; with `ycck`, its Adobe segment says YCCK (transform 2) instead."""
    data = bytearray(images.encode(Image.new("CMYK", (side, side), (10, 80, 30, 5)), "JPEG", progressive=True))
    if ycck:
        adobe = data.index(b"Adobe")
        data[adobe + 11] = 2  # after "Adobe", version (2), flags0 (2), flags1 (2): the transform byte
    return bytes(data)


def tiled_noise(side: int, tile: int = 64) -> bytes:
    """A random tile repeated over side x side: a small PNG, and a picture whose every macroblock needs its own
    intra modes, so a lossy WebP of it at high quality overflows libwebp's first partition (512 KB of modes:
    VP8_ENC_ERROR_PARTITION0_OVERFLOW: from 4000x4000 opaque at quality 90; over HTTP, where
    the cut-out is partly transparent and libwebp flattens what is, 7000x7000 gives a 500)."""
    rows = bytes(Image.effect_noise((tile, tile), 128).convert("RGB").tobytes())
    pattern = Image.frombytes("RGB", (tile, tile), rows)
    picture = Image.new("RGB", (side, side))
    for top in range(0, side, tile):
        for left in range(0, side, tile):
            picture.paste(pattern, (left, top))
    return images.encode(picture, "PNG", compress_level=9)
