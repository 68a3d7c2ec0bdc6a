"""Writing an Arrow string array as newline-terminated lines, straight from its data buffer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _terminated(lines: pa.Array | pa.ChunkedArray) -> Iterator[memoryview]:
    """The UTF-8 bytes of all values, each followed by a newline, as views of Arrow buffers (no Python copies:
    a slice's JSON is ~100 MB)."""
    chunks = lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        if chunk.null_count:
            raise ValueError("cannot write null lines")
        terminated = pc.binary_join_element_wise(chunk, pa.scalar(""), "\n")  # value + "\n" + ""
        if terminated.type != pa.string():
            terminated = terminated.cast(pa.string())
        _, offsets, data = terminated.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32, count=len(terminated) + 1, offset=terminated.offset * 4)
        yield memoryview(data)[bounds[0] : bounds[-1]]


def line_bytes(lines: pa.Array | pa.ChunkedArray) -> bytes:
    """The UTF-8 bytes of all values, each followed by a newline."""
    return b"".join(_terminated(lines))


def write_lines(handle: BinaryIO, lines: pa.Array | pa.ChunkedArray) -> int:
    for view in _terminated(lines):
        handle.write(view)
    return len(lines)


class RollingJsonl:
    """`<folder>/part-00000.jsonl`, ... rolling to a new part after about `rows_per_file` lines."""

    def __init__(self, folder: str, rows_per_file: int = 1_000_000) -> None:
        from pathlib import Path

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows_per_file = rows_per_file
        self.files: list[str] = []
        self._rows_in_file = 0
        self._handle: BinaryIO | None = None

    def write(self, lines: pa.Array | pa.ChunkedArray) -> None:
        if len(lines) == 0:
            return
        if self._handle is None or self._rows_in_file >= self.rows_per_file:
            self._open_next()
        assert self._handle is not None
        self._rows_in_file += write_lines(self._handle, lines)

    def _open_next(self) -> None:
        self.close()
        path = self.folder / f"part-{len(self.files):05d}.jsonl"
        self.files.append(str(path))
        self._handle = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._rows_in_file = 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
