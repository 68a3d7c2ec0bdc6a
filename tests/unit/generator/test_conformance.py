"""Every output follows the contract and docs/source-formats.md, and replaying each stream gives the snapshot."""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest

from generator.writers.snapshot import snapshot_parts
from lakehouse.contract import TABLES, SourceSystem, get_table, tables_from
from tests.unit.generator import readback
from tests.unit.generator.conftest import Run

MONEY_TEXT = re.compile(r"^-?\d+\.\d{2}$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
DYNAMODB_KEYS = {
    "web_users": ("USER#{web_user_id}", "PROFILE"),
    "web_sessions": ("SESSION#{session_id}", "META"),
    "clickstream_events": ("SESSION#{session_id}", "EVENT#{event_id}"),
    "carts": ("CART#{cart_id}", "META"),
    "cart_items": ("CART#{cart_id}", "ITEM#{product_id}"),
}


@pytest.mark.parametrize("table", list(TABLES))
def test_snapshot_schema_is_exactly_the_contract(nov_dec_run: Run, table: str) -> None:
    parts = snapshot_parts(nov_dec_run.out / "snapshot", table)
    assert parts
    for part in parts:
        assert pq.read_schema(part).remove_metadata() == get_table(table).arrow_schema()
    assert sum(pq.read_metadata(part).num_rows for part in parts) > 0


def test_debezium_events_have_the_documented_envelope(cdc_events: list[dict]) -> None:
    oltp = {t.name for t in tables_from(SourceSystem.OLTP)}
    ops = set()
    for event in cdc_events:
        assert set(event) == {"before", "after", "source", "op", "ts_ms", "transaction"}
        source = event["source"]
        assert source["table"] in oltp and source["schema"] == "public" and source["connector"] == "postgresql"
        assert isinstance(source["lsn"], int) and isinstance(source["txId"], int) and isinstance(source["ts_ms"], int)
        op = event["op"]
        ops.add(op)
        assert (event["before"] is None) == (op in ("c", "r"))
        assert (event["after"] is None) == (op == "d")
        columns = get_table(source["table"]).column_names
        for image in (event["before"], event["after"]):
            if image is None:
                continue
            assert list(image) == columns, "images carry exactly the contract columns, in order"
            for column in get_table(source["table"]).columns:
                value = image[column.name]
                if value is None:
                    assert column.nullable, f"{source['table']}.{column.name} is not nullable"
                elif column.type == "decimal(12,2)":
                    assert isinstance(value, str) and MONEY_TEXT.match(value)
                elif column.type in ("timestamp", "int32", "int64", "date"):
                    assert isinstance(value, int) and not isinstance(value, bool)
                elif column.type == "bool":
                    assert isinstance(value, bool)
                elif column.type == "string":
                    assert isinstance(value, str)
    assert ops == {"r", "c", "u", "d"}


def test_dynamodb_writes_are_single_table_items(dynamodb_writes: list[dict]) -> None:
    ops = set()
    for write in dynamodb_writes:
        ops.add(write["op"])
        if write["op"] == "delete":
            assert set(write) == {"op", "key"} and set(write["key"]) == {"pk", "sk"}
            continue
        item = write["item"]
        table = item["entity"]["S"]
        contract = get_table(table)
        assert set(item) - {"pk", "sk", "entity"} <= set(contract.column_names)
        for column in contract.columns:
            if column.name not in item:
                assert column.nullable, f"{table}.{column.name} missing"
                continue
            ((tag, value),) = item[column.name].items()
            if column.type == "timestamp":
                assert tag == "S" and ISO_UTC.match(value), value
        row = readback.decode_item(table, item)
        pk_template, sk_template = DYNAMODB_KEYS[table]
        assert item["pk"]["S"] == pk_template.format(**row)
        assert item["sk"]["S"] == sk_template.format(**row)
    assert ops == {"put", "delete"}


def _replay_cdc(cdc_events: list[dict]) -> dict[str, dict[tuple, dict]]:
    state: dict[str, dict[tuple, dict]] = {t.name: {} for t in tables_from(SourceSystem.OLTP)}
    for event in cdc_events:
        table = event["source"]["table"]
        pk = get_table(table).primary_key
        image = event["after"] or event["before"]
        key = tuple(image[c] for c in pk)
        if event["op"] == "d":
            del state[table][key]
        else:
            state[table][key] = readback.decode_row(table, event["after"], readback.debezium_value)
    return state


def test_replaying_the_change_stream_gives_the_snapshot(nov_dec_run: Run, cdc_events: list[dict]) -> None:
    state = _replay_cdc(cdc_events)
    for table in state:
        assert state[table] == nov_dec_run.snapshot(table).by_key(), table


def test_replaying_dynamodb_writes_gives_the_snapshot(nov_dec_run: Run, dynamodb_writes: list[dict]) -> None:
    items: dict[tuple[str, str], dict] = {}
    for write in dynamodb_writes:
        if write["op"] == "put":
            items[(write["item"]["pk"]["S"], write["item"]["sk"]["S"])] = write["item"]
        else:
            del items[(write["key"]["pk"]["S"], write["key"]["sk"]["S"])]
    state: dict[str, dict[tuple, dict]] = {t.name: {} for t in tables_from(SourceSystem.DYNAMODB)}
    for item in items.values():
        table = item["entity"]["S"]
        row = readback.decode_item(table, item)
        state[table][tuple(row[c] for c in get_table(table).primary_key)] = row
    for table, rows in state.items():
        assert rows == nov_dec_run.snapshot(table).by_key(), table


@pytest.mark.parametrize("table", [t.name for t in tables_from(SourceSystem.FILES)])
def test_landing_files_replay_to_the_snapshot_in_event_date_partitions(nov_dec_run: Run, table: str) -> None:
    contract = get_table(table)
    latest: dict[tuple, dict] = {}
    for dt, record in readback.landing(nov_dec_run.out, table):
        assert list(record) == contract.column_names
        row = readback.decode_row(table, record, readback.text_value)
        assert row[contract.event_time].date().isoformat() == dt, "partitioned by the record's event time"
        latest[tuple(row[c] for c in contract.primary_key)] = row
    assert latest == nov_dec_run.snapshot(table).by_key()
    assert latest, f"no {table} records"


def test_manifest_counts_match_the_files(nov_dec_run: Run, cdc_events: list[dict], dynamodb_writes: list[dict]) -> None:
    import json

    manifest = json.loads((nov_dec_run.out / "manifest.json").read_text())
    assert manifest["config"] == nov_dec_run.config.to_dict()
    for table, rows in manifest["rows"]["by_table"].items():
        parts = snapshot_parts(nov_dec_run.out / "snapshot", table)
        assert sum(pq.read_metadata(part).num_rows for part in parts) == rows
    assert sum(sum(ops.values()) for ops in manifest["events"]["cdc"].values()) == len(cdc_events)
    assert sum(manifest["events"]["dynamodb"].values()) == len(dynamodb_writes)
    for table, records in manifest["events"]["landing"].items():
        assert len(readback.landing(nov_dec_run.out, table)) == records
