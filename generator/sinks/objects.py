"""Object sinks for landing files: S3 (`S3Sink`) or a local folder (`FolderSink`), with one interface.

Keys are relative paths such as `reviews/dt=2026-11-27/part-00000.jsonl.gz`. Writing a key twice replaces the
object, so a re-run is safe. The folder sink writes to a temporary file and renames it, so a reader never sees
half a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from lakehouse.aws import AwsConfig, is_s3_uri


class ObjectSink(Protocol):
    def put(self, key: str, body: bytes) -> str:
        """Store `body` under `key`; returns the object's URI."""
        ...

    def put_file(self, key: str, path: Path) -> str:
        """Store a local file under `key` without reading it into memory; returns the object's URI."""
        ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"object key must be a relative path without empty, '.' or '..' parts; got {key!r}")
    return key


class S3Sink:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def object_key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, body: bytes) -> str:
        object_key = self.object_key(key)
        self.client.put_object(Bucket=self.bucket, Key=object_key, Body=body)
        return f"s3://{self.bucket}/{object_key}"

    def put_file(self, key: str, path: Path) -> str:
        object_key = self.object_key(key)
        # upload_file streams from disk and switches to multipart upload for large files.
        self.client.upload_file(str(path), self.bucket, object_key)
        return f"s3://{self.bucket}/{object_key}"


class FolderSink:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _target(self, key: str) -> Path:
        target = self.root / _check_key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def put(self, key: str, body: bytes) -> str:
        return self._write_atomically(key, lambda tmp: tmp.write(body))

    def put_file(self, key: str, path: Path) -> str:
        def copy(tmp: IO[bytes]) -> None:
            with Path(path).open("rb") as source:
                shutil.copyfileobj(source, tmp)

        return self._write_atomically(key, copy)

    def _write_atomically(self, key: str, write: Callable[[IO[bytes]], object]) -> str:
        target = self._target(key)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as tmp:
            try:
                write(tmp)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, target)
        return str(target)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix")."""
    if not is_s3_uri(uri):
        raise ValueError(f"not an S3 URI: {uri!r}; expected s3://bucket/prefix")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI {uri!r} has no bucket; expected s3://bucket/prefix")
    return bucket, prefix.strip("/")


def object_sink(uri: str, aws: AwsConfig | None = None) -> S3Sink | FolderSink:
    """`s3://bucket/prefix` -> S3Sink (clients from `aws`, default: the environment); anything else -> FolderSink."""
    if is_s3_uri(uri):
        bucket, prefix = split_s3_uri(uri)
        return S3Sink((aws or AwsConfig.from_env()).client("s3"), bucket, prefix)
    return FolderSink(uri)
