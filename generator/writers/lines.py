"""Writing an Arrow string array as newline-terminated lines, straight from its data buffer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.columns import pieces

LINES_PER_PIECE = 16_384  # newline-terminated copies are made piece by piece (a slice's JSON is ~100 MB)


def _terminated(lines: pa.Array | pa.ChunkedArray, terminated: bool = False) -> Iterator[memoryview]:
    """The UTF-8 bytes of all values, each followed by a newline, as views of Arrow buffers (no Python copies),
    a piece of LINES_PER_PIECE lines at a time, so the terminated copy stays small. `terminated`: the values end
    with their newline already (no copy at all)."""
    for piece in pieces(lines, LINES_PER_PIECE):
        if piece.null_count:
            raise ValueError("cannot write null lines")
        if not terminated:
            piece = pc.binary_join_element_wise(piece, pa.scalar(""), "\n")  # value + "\n" + ""
        if piece.type != pa.string():
            piece = piece.cast(pa.string())
        _, offsets, data = piece.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32, count=len(piece) + 1, offset=piece.offset * 4)
        yield memoryview(data)[bounds[0] : bounds[-1]]


def line_bytes(lines: pa.Array | pa.ChunkedArray) -> bytes:
    """The UTF-8 bytes of all values, each followed by a newline."""
    return b"".join(_terminated(lines))


def write_lines(handle: BinaryIO, lines: pa.Array | pa.ChunkedArray, terminated: bool = False) -> int:
    for view in _terminated(lines, terminated):
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

    def write(self, lines: pa.Array | pa.ChunkedArray | Iterable[pa.Array], terminated: bool = False) -> None:
        """One batch of lines (or its parts, built one after the other): a batch never spans two files.
        `terminated`: the values end with their newline already."""
        parts = [lines] if isinstance(lines, pa.Array | pa.ChunkedArray) else lines
        in_batch = False
        for part in parts:
            if len(part) == 0:
                continue
            if self._handle is None or (self._rows_in_file >= self.rows_per_file and not in_batch):
                self._open_next()
            in_batch = True
            assert self._handle is not None
            self._rows_in_file += write_lines(self._handle, part, terminated)

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
