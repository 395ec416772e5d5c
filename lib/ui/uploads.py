"""Uploaded files on disk for one script run: a path of its own per upload (two uploads may
carry the same name, from different folders), removed when the run ends."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

_SAFE_EXT = re.compile(r"\.[A-Za-z0-9]{1,10}")


class Upload(Protocol):
    """What ``st.file_uploader`` returns per file (``UploadedFile``)."""

    name: str
    size: int

    def getbuffer(self) -> memoryview: ...


@dataclass(frozen=True)
class SavedUpload:
    """One upload written to disk: ``path`` is unique to it, ``name`` the name the browser
    sent (for display only), ``key`` tells it apart from the others (widget keys, state)."""

    path: str
    name: str
    key: str
    size: int


def _suffix(name: str) -> str:
    """The file name's extension when it is plain letters and digits, else none."""
    ext = os.path.splitext(name)[1]
    return ext.lower() if _SAFE_EXT.fullmatch(ext) else ""


@contextmanager
def saved_uploads(
    uploads: Sequence[Upload], prefix: str = "tokenboard-upload-"
) -> Iterator[list[SavedUpload]]:
    """Write each upload to a path of its own in a new private temporary folder, yield them,
    and remove the folder (every file in it) when the block ends, however it ends."""
    folder = tempfile.mkdtemp(prefix=prefix)
    try:
        saved: list[SavedUpload] = []
        for i, up in enumerate(uploads):
            path = os.path.join(folder, f"upload-{i:03d}{_suffix(up.name)}")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(up.getbuffer())
            key = str(getattr(up, "file_id", "") or f"{i}:{up.name}")
            saved.append(SavedUpload(path, up.name, key, up.size))
        yield saved
    finally:
        shutil.rmtree(folder, ignore_errors=True)
