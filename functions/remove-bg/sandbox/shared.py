"""Pictures in shared memory: the worker decodes into one, the model's process maps the same pages.

Pillow keeps an RGB picture as four bytes a pixel, the fourth unused, and RGBA the same way, so a
memfd of width × height × 4 bytes mapped as Pillow's own storage (Image.core.map_buffer, the call
Image.frombuffer makes for the modes it maps) is a picture both processes read without a copy;
frombuffer itself refuses to map "RGB", which is why the core call is used (Pillow is pinned;
tests/function/test_sandbox.py checks the pixels survive the trip). The worker seals the memfd
before it is sent, and the model's process maps nothing unsealed.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os

from PIL import Image

MODES = ("RGB", "RGBA")
# Every page mapped at once: page by page, a 12 MP picture's 12,000 faults in each process cost 6 % of a request.
MAP_FLAGS = mmap.MAP_SHARED | mmap.MAP_POPULATE
BYTES_PER_PIXEL = 4
# No shrinking, growing or writing from now on, and no unsealing.
SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL


class SharedPicture:
    """A picture whose pixels live in a memfd, for the worker to decode into."""

    def __init__(self, mode: str, size: tuple[int, int]) -> None:
        if mode not in MODES:
            raise ValueError(f"a shared picture is RGB or RGBA, not {mode}")
        self.mode, self.size = mode, size
        self.fd = os.memfd_create(f"picture-{mode}", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        length = _length(size)
        os.ftruncate(self.fd, length)
        self._map = mmap.mmap(self.fd, length, flags=MAP_FLAGS)
        self.image = _mapped(self._map, mode, size)
        self.image.readonly = 0  # the worker writes into it; its mapping is writable

    def unmap(self) -> None:
        """This side's mapping gone; the pages live on through the descriptor (`fd`, the caller's to close)."""
        self.image = Image.new(self.mode, (0, 0))  # the mapped picture's last reference, so the map can close
        with contextlib.suppress(BufferError):  # a picture still mapped elsewhere here: unmapped with it
            self._map.close()

    def seal(self) -> None:
        """The pixels fixed for good, once unmapped here: the model's process maps only what it can trust to stay.

        An unsealed memfd can be cut short by the worker after the model's process has checked its size, and
        reading the lost pages then kills that process with SIGBUS."""
        fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, SEALS)

    def holds(self, image: Image.Image) -> bool:
        """True if `image` is this picture (decoded or converted into it), not a copy elsewhere."""
        return image.mode == self.mode and image.size == self.size and image.im is self.image.im


def map_picture(fd: int, mode: str, size: tuple[int, int]) -> Image.Image:
    """The worker's picture, mapped read-only; the mapping (and the memfd's pages) go with the last reference."""
    if mode not in MODES or min(size) < 1:
        raise ValueError(f"not a shared picture: {mode} {size}")
    if fcntl.fcntl(fd, fcntl.F_GET_SEALS) & SEALS != SEALS:  # also refuses a descriptor that is not a memfd
        raise ValueError("the shared picture is not sealed against changes")
    if os.fstat(fd).st_size < _length(size):
        raise ValueError("the shared picture is smaller than its size says")
    return _mapped(mmap.mmap(fd, _length(size), flags=MAP_FLAGS, prot=mmap.PROT_READ), mode, size)


def _length(size: tuple[int, int]) -> int:
    return size[0] * size[1] * BYTES_PER_PIXEL


def _mapped(buffer: mmap.mmap, mode: str, size: tuple[int, int]) -> Image.Image:
    image = Image.new(mode, (0, 0))._new(Image.core.map_buffer(buffer, size, "raw", 0, (mode, 0, 1)))
    image.readonly = 1
    return image
