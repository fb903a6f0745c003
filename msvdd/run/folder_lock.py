"""One live run per output folder: an exclusive lock held for the whole run.

Run folders are unique per process (conf/hydra/default.yaml), but a sweep's job folders are found
again by name (resume), so two identical sweeps started together would write into the same
folders. The lock (``flock`` on ``<folder>/.msvdd.lock``, removed at the end of the run) makes the
second run refuse with a one-line error instead; the kernel drops it when the owner exits or is
killed, so a file left by a killed run never blocks anyone.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from msvdd.errors import FolderInUseError

LOCK_NAME = ".msvdd.lock"

try:
    import fcntl
except ImportError:  # Windows: no flock, no lock
    fcntl = None


@contextlib.contextmanager
def own_folder(folder: str | os.PathLike) -> Iterator[None]:
    """Hold ``folder`` for this process, or raise FolderInUseError naming the live owner."""
    if fcntl is None:
        yield
        return
    path = Path(folder) / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise FolderInUseError(f"output folder {folder} is in use by another live run (pid@host {owner}); "
                                   "wait for it to end or write elsewhere (hydra.run.dir=PATH)") from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # its previous owner removed the file between our open and lock: take the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}@{socket.gethostname()}\n".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # still holding the lock, so no other run can be between open and lock on it
        os.close(fd)  # closing the descriptor releases the lock
