"""Checkpoints of the local poller: per event source ARN and shard, the last sequence number handled
successfully and whether the shard is closed and fully read. Stored in one JSON file, written atomically
(temporary file + fsync + rename), so a crash leaves either the old or the new checkpoint, never a torn one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class CheckpointStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._state: dict[str, dict[str, dict[str, Any]]] = self._load()

    def _load(self) -> dict[str, dict[str, dict[str, Any]]]:
        if not self.path.exists():
            return {}
        try:
            state = json.loads(self.path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(
                f"checkpoint file {self.path} is not valid JSON ({error}); delete it to re-read "
                "the streams from the start (the pipeline is idempotent)"
            ) from None
        return dict(state)

    def sequence(self, source_arn: str, shard_id: str) -> str | None:
        return self._state.get(source_arn, {}).get(shard_id, {}).get("sequence")

    def is_closed(self, source_arn: str, shard_id: str) -> bool:
        return bool(self._state.get(source_arn, {}).get(shard_id, {}).get("closed", False))

    def advance(self, source_arn: str, shard_id: str, sequence: str) -> None:
        self._state.setdefault(source_arn, {}).setdefault(shard_id, {})["sequence"] = sequence
        self._save()

    def close(self, source_arn: str, shard_id: str) -> None:
        self._state.setdefault(source_arn, {}).setdefault(shard_id, {})["closed"] = True
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(self._state, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
