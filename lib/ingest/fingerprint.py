"""The content hash the ledger keeps of each imported file, computed beside the import."""

from __future__ import annotations

import hashlib
import os
import threading

FULL_HASH_LIMIT = 256 * 1024 * 1024  # bytes; larger files get a sampled fingerprint
_SAMPLES = 64
_SAMPLE_BYTES = 256 * 1024


def content_hash(path: str) -> str | None:
    """sha256 of the file's bytes; for files over ``FULL_HASH_LIMIT`` a sampled fingerprint
    (size, first and last MiB, and 64 evenly spaced 256 KiB slices), marked ``sampled:``,
    which tells a re-import of the same export apart without hashing gigabytes on the CPU the
    import needs. ``None`` when the file cannot be read."""
    h = hashlib.sha256()
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if size <= FULL_HASH_LIMIT:
                for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
                    h.update(chunk)
                return h.hexdigest()
            h.update(str(size).encode())
            offsets = [0, size - 1024 * 1024] + [size * i // _SAMPLES for i in range(_SAMPLES)]
            for off in offsets:
                fh.seek(off)
                h.update(fh.read(1024 * 1024 if off in offsets[:2] else _SAMPLE_BYTES))
            return "sampled:" + h.hexdigest()
    except OSError:
        return None


class Hasher(threading.Thread):
    """``content_hash`` computed beside the import (hashlib releases the GIL); ``digest()``
    waits for it."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self._digest: str | None = None

    def run(self) -> None:
        self._digest = content_hash(self.path)

    def digest(self) -> str | None:
        """The hash, once computed (``None`` when the file could not be read)."""
        self.join()
        return self._digest
