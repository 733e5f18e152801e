"""Decoding: in bands, the same pixels as converting and scaling the whole picture at once; and
the error for each input that is not a picture the function takes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from function.errors import ApiError, CorruptImage, ImageTooLarge, UnsupportedImage
from function.picture.decode import MAX_PNG_CHUNKS, WEBP_SHARE, _converted_and_scaled, decode
from harness.pngs import chunk, header_claiming
from tests.support import images


@pytest.mark.parametrize(
    ("source_mode", "mode"), [("RGB", "RGB"), ("RGBA", "RGBA"), ("LA", "RGBA"), ("P", "RGB"), ("L", "RGB")]
)
@pytest.mark.parametrize(
    ("size", "target"), [((3000, 2000), (1200, 800)), ((901, 5003), (300, 1667)), ((700, 500), (700, 500))]
)
def test_banded_conversion_matches_the_whole_image(source_mode: str, mode: str, size, target) -> None:
    photo = images.photo("chelsea").resize(size, Image.Resampling.BICUBIC)
    if source_mode in ("RGBA", "LA"):
        photo.putalpha(Image.linear_gradient("L").resize(size))
    source = photo.convert(source_mode)
    ours = np.asarray(_converted_and_scaled(source, mode, target, Image.new), dtype=np.int16)
    whole = source.convert(mode)
    whole = whole if whole.size == target else whole.resize(target, Image.Resampling.LANCZOS)
    difference = np.abs(ours - np.asarray(whole, dtype=np.int16))
    assert difference.max() <= 1, "rounding of the band's float box at most"
    assert difference.mean() < 0.01


# --- what decode() answers, without a model or a server ------------------------------------

LIMIT = 1_000_000


def test_a_picture_over_max_pixels_is_scaled_to_fit_and_keeps_its_source_size() -> None:
    picture = decode(images.jpeg(images.photo("chelsea").resize((2000, 1000))), LIMIT * 50, max_pixels=500_000)
    assert picture.source_size == (2000, 1000)
    assert picture.rgb.width * picture.rgb.height <= 500_000
    assert picture.rgb.mode == "RGB"
    assert picture.alpha is None
    assert picture.format == "JPEG"


def test_the_exif_orientation_is_applied_and_the_source_size_is_upright() -> None:
    body = images.jpeg_with_orientation(images.photo("chelsea").resize((300, 200)), 6)
    picture = decode(body, LIMIT, LIMIT)
    assert picture.source_size == (200, 300)
    assert picture.rgb.size == (200, 300)


def test_own_transparency_is_kept_and_an_opaque_alpha_dropped() -> None:
    photo = images.photo("chelsea").resize((64, 48))
    opaque = photo.copy()
    opaque.putalpha(255)
    assert decode(images.encode(opaque, "PNG"), LIMIT, LIMIT).alpha is None
    photo.putalpha(Image.linear_gradient("L").resize(photo.size))
    picture = decode(images.encode(photo, "PNG"), LIMIT, LIMIT)
    assert picture.alpha is not None
    low, high = picture.alpha.getextrema()
    assert low < 10 and high > 245, "the gradient survives"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"plain text, not a picture", UnsupportedImage),
        (b"%PDF-1.7\n" + b"\x00" * 100, UnsupportedImage),
        (b"\xff\xd8\xff", CorruptImage),  # a JPEG that ends in its first marker
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, CorruptImage),
    ],
)
def test_what_is_not_a_readable_picture(body: bytes, error: type[ApiError]) -> None:
    with pytest.raises(error):
        decode(body, LIMIT, LIMIT)


def test_a_format_pillow_reads_but_the_function_does_not_take() -> None:
    with pytest.raises(UnsupportedImage, match="JPEG"):
        decode(images.encode(images.photo("chelsea").resize((32, 32)), "PCX"), LIMIT, LIMIT)


def test_truncated_pixel_data_is_corrupt() -> None:
    body = images.jpeg(images.photo("chelsea"))
    with pytest.raises(CorruptImage, match="truncated or corrupt"):
        decode(body[: len(body) // 2], LIMIT, LIMIT)


@pytest.mark.parametrize(("size", "match"), [((2000, 1000), "limit is 1000000"), ((70_000, 1), "no side may be over")])
def test_too_large_is_refused_from_the_header_alone(size: tuple[int, int], match: str) -> None:
    with pytest.raises(ImageTooLarge, match=match):
        decode(header_claiming(*size), LIMIT, LIMIT)


def _webp(size: tuple[int, int], frames: int = 1, **options: object) -> bytes:
    photo = images.photo("chelsea").resize(size)
    sequence = [photo.rotate(angle) for angle in range(frames)]
    return images.encode(sequence[0], "WEBP", save_all=frames > 1, append_images=sequence[1:], method=0, **options)


@pytest.mark.parametrize("frames", [1, 2], ids=["still", "animated"])
@pytest.mark.parametrize("kind", [{"lossless": True}, {"quality": 80}], ids=["lossless", "lossy"])
def test_a_webp_may_have_its_share_of_the_limit(frames: int, kind: dict[str, object]) -> None:
    """Lossy or lossless, libwebp holds 16.5 B a pixel while it decodes: a 50 MP lossy one peaked at 1.2 GB."""
    share = int(LIMIT * WEBP_SHARE)
    over = _webp((1000, share // 1000 + 1), frames, **kind)
    with pytest.raises(ImageTooLarge, match=f"limit is {share} for a WebP"):
        decode(over, LIMIT, LIMIT)
    assert decode(_webp((1000, share // 1000), frames, **kind), LIMIT, LIMIT).source_size == (1000, 600)


def test_a_webp_behind_unknown_chunks_gets_its_share_too() -> None:
    """The share is the container's, not its chunks': nothing the file hides behind changes it."""
    share = int(LIMIT * WEBP_SHARE)
    picture = images.photo("chelsea").resize((1000, share // 1000 + 1))
    over = images.webp_behind_chunks(images.extended_webp(picture, quality=80), 5000)
    assert Image.open(io.BytesIO(over)).size == (1000, 601)  # Pillow reads it as it is
    with pytest.raises(ImageTooLarge, match=f"limit is {share} for a WebP"):
        decode(over, LIMIT, LIMIT)


@pytest.mark.parametrize("where", ["before the image data", "after it"])
def test_a_png_cut_into_too_many_chunks_is_refused_unread(where: str) -> None:
    """A million empty chunks (12 MB) cost Pillow about 3 s of CPU, read one by one in Python; refused at once."""
    picture = images.encode(images.photo().resize((64, 64)), "PNG")
    split = picture.index(b"IDAT") - 4 if where == "before the image data" else picture.index(b"IEND") - 4
    padded = picture[:split] + chunk(b"abCd", b"") * (MAX_PNG_CHUNKS + 1) + picture[split:]
    with pytest.raises(CorruptImage, match="more than 65536 chunks"):
        decode(padded, LIMIT, LIMIT)
    fewer = picture[:split] + chunk(b"abCd", b"") * 1000 + picture[split:]
    assert decode(fewer, LIMIT, LIMIT).source_size == (64, 64)
