"""Property-based fuzzing of the decoders and the batch: bad input never crashes a batch, and every record is
appended, ignored or quarantined with a reason (the counts add up)."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from deltalake import DeltaTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakehouse.bench.cdc_bronze import debezium_event
from lakehouse.cdc.bronze import bronze_rows
from lakehouse.cdc.config import CdcSettings
from lakehouse.cdc.decoders import decode_change_json, decode_dynamodb_record
from lakehouse.cdc.ingest import CdcIngestService
from lakehouse.cdc.model import Change, Ignored, RecordRejected, TableChanges
from lakehouse.contract import SourceSystem, tables_from
from tests.unit.cdc.conftest import kinesis_record, kinesis_records

# Timing varies on a shared 2-core machine: no per-example deadline.
SHARED_MACHINE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
OLTP = [t.name for t in tables_from(SourceSystem.OLTP)]
DYNAMODB = [t.name for t in tables_from(SourceSystem.DYNAMODB)]

json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_debezium(draw: st.DrawFn) -> dict[str, Any]:
    """A valid Debezium event for a random OLTP table, then a few random mutations anywhere in it."""
    from lakehouse.contract import get_table

    table = draw(st.sampled_from(OLTP))
    lsn = draw(st.integers(1, 10**12))
    op = draw(st.sampled_from(["c", "u", "d", "r"]))
    event = debezium_event(get_table(table), draw(st.integers(1, 10**6)), lsn, random.Random(lsn), op=op)
    image = event["before"] if op == "d" else event["after"]
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(["image", "image", "image", "envelope", "source"]))
        holder = {"image": image, "envelope": event, "source": event.get("source")}[target]
        if not isinstance(holder, dict):
            continue
        key = draw(st.sampled_from([*holder.keys(), "extra_col"]))
        if draw(st.booleans()):
            holder[key] = draw(json_values)
        else:
            holder.pop(key, None)
    return event


def dumps(document: Any) -> bytes:
    """Serialise like a producer might: stdlib json also writes integers beyond 64 bits."""
    return json.dumps(document).encode()


def assert_decodes_or_rejects(payload: bytes) -> Change | Ignored | None:
    try:
        return decode_change_json(payload)
    except RecordRejected as rejected:
        assert rejected.reason and rejected.detail
        return None


@SHARED_MACHINE
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder(payload: bytes) -> None:
    assert_decodes_or_rejects(payload)


@SHARED_MACHINE
@given(json_values)
def test_random_json_never_crashes_the_decoder(document: Any) -> None:
    assert_decodes_or_rejects(dumps(document))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_debezium(), min_size=1, max_size=8))
def test_mutated_events_are_typed_or_rejected_row_by_row(events: list[dict[str, Any]]) -> None:
    from lakehouse.contract import get_table

    decoded = [assert_decodes_or_rejects(dumps(e)) for e in events]
    changes = [d for d in decoded if isinstance(d, Change)]
    for table in {c.table for c in changes}:
        of_table = [c for c in changes if c.table == table]
        columnar = TableChanges.from_changes(table, list(enumerate(of_table)))
        rows = bronze_rows(get_table(table), columnar, batch_id="fuzz", ingested_at_us=0)
        assert rows.table.num_rows + len(rows.rejected) == len(of_table)
        assert all(0 <= i < len(of_table) for i in rows.rejected)
        for column in get_table(table).primary_key:
            assert rows.table.column(column).null_count == 0


dynamodb_attribute = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(max_size=10)),
    st.builds(lambda v: {"N": v}, st.from_regex(r"-?[0-9]{1,25}(\.[0-9]{1,4})?", fullmatch=True) | st.text(max_size=5)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"L": [{"S": x} for x in v]}, st.lists(st.text(max_size=3), max_size=2)),
    json_values,  # not an attribute value at all
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["INSERT", "MODIFY", "REMOVE", "UPSERT", None]),
    st.sampled_from([*DYNAMODB, "wishlists"]),
    st.dictionaries(st.sampled_from(["session_id", "cart_id", "product_id", "event_id", "web_user_id",
                                     "quantity", "updated_at", "started_at", "page_views", "x"]),
                    dynamodb_attribute, max_size=6),
    st.text(alphabet="0123456789", min_size=1, max_size=45) | st.none(),
)  # fmt: skip
def test_random_dynamodb_records_are_typed_or_rejected(
    event_name: str | None, entity: str, attributes: dict[str, Any], sequence: str | None
) -> None:
    from lakehouse.contract import get_table

    image = {"pk": {"S": "X#1"}, "sk": {"S": "META"}, "entity": {"S": entity}, **attributes}
    record = {"NewImage": image, "OldImage": image, "SequenceNumber": sequence, "ApproximateCreationDateTime": 1.0}
    try:
        change = decode_dynamodb_record(event_name, record)
    except RecordRejected:
        return
    assert isinstance(change, Change)
    changes = TableChanges.from_changes(change.table, [(0, change)])
    rows = bronze_rows(get_table(change.table), changes, batch_id="fuzz", ingested_at_us=0)
    assert rows.table.num_rows + len(rows.rejected) == 1


@st.composite
def kinesis_payloads(draw: st.DrawFn) -> bytes | str | None:
    kind = draw(st.sampled_from(["valid", "mutated", "mutated", "bytes", "json", "tombstone", "bad_base64"]))
    if kind == "valid":
        from lakehouse.contract import get_table

        lsn = draw(st.integers(1, 10**9))
        return dumps(debezium_event(get_table(draw(st.sampled_from(OLTP))), lsn, lsn, random.Random(lsn)))
    if kind == "mutated":
        return dumps(draw(mutated_debezium()))
    if kind == "bytes":
        return draw(st.binary(max_size=60))
    if kind == "json":
        return dumps(draw(json_values))
    if kind == "tombstone":
        return None
    return draw(st.text(alphabet="!*?-", min_size=1, max_size=10))  # not base64


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(kinesis_payloads(), min_size=1, max_size=25))
def test_fuzzed_batches_commit_and_count_every_record(payloads: list[bytes | str | None]) -> None:
    records = kinesis_records(payloads)
    with tempfile.TemporaryDirectory() as workdir:
        service = CdcIngestService(CdcSettings(f"{workdir}/lake", f"{workdir}/quarantine"))
        outcome = service.ingest_kinesis_event({"Records": records})
        assert outcome.balanced and outcome.failed == 0, outcome.summary()
        assert sum(outcome.reasons.values()) == outcome.ignored + outcome.quarantined
        in_bronze = sum(
            DeltaTable(service.writer.table_uri(t)).to_pyarrow_table().num_rows for t in outcome.appended_by_table
        )
        assert in_bronze == outcome.appended
        lines = [
            json.loads(x) for p in Path(workdir, "quarantine").rglob("*.jsonl") for x in p.read_text().splitlines()
        ]
        assert len(lines) == outcome.quarantined
        assert all(line["reason"] and line["record_id"] for line in lines)
        assert {line["record_id"] for line in lines} <= {r["kinesis"]["sequenceNumber"] for r in records}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(kinesis_payloads(), min_size=1, max_size=30), st.booleans())
def test_batch_json_path_writes_what_the_per_record_path_writes(
    payloads: list[bytes | str | None], clean: bool
) -> None:
    """The Arrow batch path (used when a batch is plain Debezium) against the per-record reference path."""
    from lakehouse.cdc.decoders import decode_debezium_batch, kinesis_payload
    from lakehouse.contract import get_table

    raw = [p for p in payloads if isinstance(p, bytes)]
    if clean:  # mostly valid batches, so that the batch path is taken
        raw = [p for p in raw if isinstance(assert_decodes_or_rejects(p), Change)]
    if not raw:
        return
    records = [kinesis_record(p, i) for i, p in enumerate(raw)]
    decoded_payloads = [kinesis_payload(r["kinesis"]["data"]) for r in records]
    payloads_ok = [p for p in decoded_payloads if isinstance(p, bytes)]  # tombstones never reach a decoder
    fast = decode_debezium_batch(payloads_ok)
    if fast is None:
        return  # the batch needs the per-record path: nothing to compare
    reference: dict[str, list[tuple[int, Change]]] = {}
    for index, payload in enumerate(payloads_ok):
        decoded = decode_change_json(payload)
        assert isinstance(decoded, Change)  # the batch path only takes batches of plain change events
        reference.setdefault(decoded.table, []).append((index, decoded))

    def rows_of(changes: list[TableChanges]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for part in changes:
            built = bronze_rows(get_table(part.table), part, batch_id="b", ingested_at_us=0)
            rejected = sorted(part.record_indices[i] for i in built.rejected)
            out.setdefault(part.table, []).extend(built.table.to_pylist())
            out.setdefault(f"{part.table}:rejected", []).extend({"record": i} for i in rejected)
        return {k: sorted(v, key=lambda r: json.dumps(r, default=str, sort_keys=True)) for k, v in out.items()}

    expected = rows_of([TableChanges.from_changes(t, pairs) for t, pairs in reference.items()])
    assert rows_of(fast) == expected
