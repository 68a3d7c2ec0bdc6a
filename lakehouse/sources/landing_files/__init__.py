"""dlt source: gzipped JSONL landing files in date partitions (`<root>/<table>/dt=YYYY-MM-DD/*.jsonl.gz`).

Built on dlt's filesystem source: one `filesystem` resource per table lists the table's files with an incremental
cursor on `modification_date` (only new or re-uploaded files are read on the next run; the cursor lives in dlt's
state, which the runner stores in the destination), piped into a reader that gunzips, parses and validates each
file. A file that cannot be decompressed and a line that is not a JSON object with its primary key go to the
quarantine with the file and the reason; every other row loads.

Rows keep their JSON values; dlt coerces them to the contract types from the column hints (ISO strings ->
timestamps, "12.30" -> decimal). A value that cannot be coerced lands in a variant column, a new field becomes a
new column and a nested list becomes a child table (`<table>__<field>`).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import dlt
import orjson
from dlt.sources import DltResource
from dlt.sources.filesystem import FileItemDict, filesystem

from lakehouse.contract import SourceSystem, TableContract, get_table, tables_from
from lakehouse.load.quarantine import (
    MISSING_PRIMARY_KEY,
    NOT_AN_OBJECT,
    UNDECODABLE_JSON,
    UNREADABLE_GZIP,
    Quarantine,
)
from lakehouse.sources.empty_tables import empty_tables
from lakehouse.sources.hints import contract_columns, write_disposition

SOURCE_NAME = "landing_files"
LINEAGE_COLUMN = "_landing_file"  # the landing file each row came from
GZIP_MAGIC = b"\x1f\x8b"
ROWS_PER_CHUNK = 5_000
FILES_PER_RUN = 1_000_000
READ_AHEAD = 8

FileCallback = Callable[[str, str], None]  # (table, file_url) after each file


def landing_tables() -> list[str]:
    return [t.name for t in tables_from(SourceSystem.FILES)]


@dlt.source(name=SOURCE_NAME)
def landing_files(
    bucket_url: str,
    quarantine: Quarantine,
    tables: Sequence[str] | None = None,
    credentials: Any = None,
    on_file: FileCallback | None = None,
) -> Iterator[DltResource]:
    """One Delta resource per landing table. `bucket_url` is the landing root (a folder or s3://bucket/prefix);
    `credentials` an fsspec filesystem or dlt AwsCredentials for S3."""
    for name in tables or landing_tables():
        contract = get_table(name)
        if contract.source != SourceSystem.FILES:
            raise ValueError(f"{name} is not a landing-file table; landing tables are: {', '.join(landing_tables())}")
        files = filesystem(
            bucket_url=bucket_url,
            credentials=credentials,
            file_glob=f"{name}/**/*.jsonl*",
            # one page holds every new file: the reader keeps only the latest version of a key across files
            files_per_page=FILES_PER_RUN,
            incremental=dlt.sources.incremental("modification_date"),
        ).with_name(f"{name}_files")
        yield files | _reader(contract, quarantine, on_file)


def landing_columns(contract: TableContract) -> dict[str, dict[str, Any]]:
    """dlt column hints of a landing table: the contract's columns plus the lineage column."""
    return {**contract_columns(contract), LINEAGE_COLUMN: {"name": LINEAGE_COLUMN, "data_type": "text"}}


def empty_landing_tables(tables: Sequence[str]) -> Any:
    """A source (under this source's name) that creates `tables` empty with the columns a load gives them."""
    return empty_tables(SOURCE_NAME, [get_table(name) for name in tables], landing_columns)


def _reader(contract: TableContract, quarantine: Quarantine, on_file: FileCallback | None) -> DltResource:
    columns: Any = landing_columns(contract)
    disposition: Any = write_disposition(contract)

    @dlt.transformer(
        name=contract.name,
        primary_key=list(contract.primary_key),
        write_disposition=disposition,
        columns=columns,
        table_format="delta",
    )
    def read_landing_files(items: Iterable[FileItemDict]) -> Iterator[list[dict[str, Any]]]:
        # dlt's upsert needs unique keys per load: when a key appears in several files of one run, the version
        # with the latest event time wins, and on a tie the later file (partitions sort by date).
        latest: dict[tuple[Any, ...], dict[str, Any]] = {}
        ordered = sorted(items, key=lambda i: str(i["file_url"]))
        # Object stores answer one GET at a time slowly; fetch a few files ahead, parse them in order.
        with ThreadPoolExecutor(max_workers=READ_AHEAD) as pool:
            contents = pool.map(lambda item: item.read_bytes(), ordered)
            for item, raw in zip(ordered, contents, strict=True):
                file_url = unquote(item["file_url"])
                for record in read_records(file_url, raw, contract, quarantine):
                    key = tuple(record[k] for k in contract.primary_key)
                    current = latest.get(key)
                    if current is None or _event_time(record, contract) >= _event_time(current, contract):
                        latest[key] = record
                if on_file:
                    on_file(contract.name, file_url)
        rows = list(latest.values())
        for start in range(0, len(rows), ROWS_PER_CHUNK):
            yield rows[start : start + ROWS_PER_CHUNK]

    return read_landing_files


def _event_time(record: dict[str, Any], contract: TableContract) -> str:
    return str(record.get(contract.event_time) or "")


def read_records(
    file_url: str, raw: bytes, contract: TableContract, quarantine: Quarantine
) -> Iterator[dict[str, Any]]:
    """The valid records of one landing file; everything else goes to the quarantine."""
    try:
        data = gzip.decompress(raw) if raw.startswith(GZIP_MAGIC) else raw
    except (EOFError, OSError, zlib.error) as exc:
        # A truncated or corrupt archive: keep the whole file, load none of it (a partial file is not a fact).
        quarantine.add_file(
            source=SOURCE_NAME,
            table=contract.name,
            stream=file_url,
            raw=raw,
            reason=UNREADABLE_GZIP,
            detail=f"{type(exc).__name__}: {exc}",
        )
        return
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        record, reason, detail = _parse(line, contract)
        if record is None:
            quarantine.add_line(
                source=SOURCE_NAME,
                table=contract.name,
                stream=file_url,
                line_number=number,
                raw=line,
                reason=reason,
                detail=detail,
            )
            continue
        record[LINEAGE_COLUMN] = file_url
        yield record


def _parse(line: bytes, contract: TableContract) -> tuple[dict[str, Any] | None, str, str]:
    """(record, "", "") for a valid line, else (None, reason, detail)."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return None, UNDECODABLE_JSON, str(exc)
    if not isinstance(record, dict):
        return None, NOT_AN_OBJECT, f"a JSON {type(record).__name__}, not an object"
    missing = [key for key in contract.primary_key if record.get(key) is None]
    if missing:
        return None, MISSING_PRIMARY_KEY, f"missing or null: {', '.join(missing)}"
    if any(isinstance(record[key], (dict, list)) for key in contract.primary_key):
        return None, MISSING_PRIMARY_KEY, "the primary key value is not a scalar"
    return record, "", ""
