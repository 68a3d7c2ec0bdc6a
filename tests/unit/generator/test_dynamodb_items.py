"""DynamoDB write requests travel as typed rows (a dense union) and are encoded after the sort, a piece at a time:
the lines must be the requests in the items' order, whatever mix of tables and ops a piece holds, whether the
union was built, sorted (Arrow's take), spilled (IPC) or sliced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from generator.behaviour import customer_web_user_ids, web_user_rows
from generator.columns import contract_table, ints, money, pieces, prefixed_ids, timestamps
from generator.config import SimulationConfig
from generator.encoding import Encoder
from generator.events import DYNAMODB_SCHEMA, DYNAMODB_TABLES, dynamodb_items, with_table_names
from generator.simulation import Simulation
from generator.writers.dynamodb import DynamoDBWriter

T0 = 1_793_491_200_000_000


def _cart_items(n: int) -> pa.Table:
    at = T0 + np.arange(n) * 1_000_000
    return contract_table(
        "cart_items",
        {
            "cart_id": prefixed_ids("cart-", np.arange(n) // 2),
            "product_id": ints(100 + np.arange(n)),
            "quantity": ints(1 + np.arange(n) % 3, pa.int32()),
            "unit_price": money(np.arange(n) * 100 + 99),
            "added_at": timestamps(at),
            "updated_at": timestamps(at),
        },
    )


@pytest.fixture(scope="module")
def encoder() -> Iterator[Encoder]:
    encoder = Encoder()
    yield encoder
    encoder.close()


def _writes() -> tuple[pa.Table, list[tuple[str, str, int]]]:
    """Interleaved puts of web users and cart items and deletes of cart items, in a shuffled emit order; with
    what each line must be: (table, op, index of its row)."""
    users = web_user_rows(customer_web_user_ids(np.arange(1, 41)), np.arange(1, 41), T0 + np.arange(40))
    items = _cart_items(30)
    parts = [
        ("web_users", "put", users),
        ("cart_items", "put", items),
        ("cart_items", "delete", items.slice(10, 10)),
    ]
    tables = [
        pa.Table.from_arrays(
            [
                pa.array(np.full(rows.num_rows, k, np.int64)),
                pa.array(np.arange(rows.num_rows, dtype=np.int64)),
                pa.array(np.full(rows.num_rows, DYNAMODB_TABLES.index(table), np.int8)),
                dynamodb_items(table, op, rows),
            ],
            schema=DYNAMODB_SCHEMA,
        )
        for k, (table, op, rows) in enumerate(parts)
    ]
    combined = pa.concat_tables(tables).combine_chunks()
    expected = [(table, op, i) for table, op, rows in parts for i in range(rows.num_rows)]
    order = np.random.default_rng(5).permutation(combined.num_rows)
    return combined.take(pa.array(order)), [expected[i] for i in order]


def _check(line: str, table: str, op: str, i: int) -> None:
    request = json.loads(line)
    assert request["op"] == op
    if table == "web_users":
        assert request["item"]["web_user_id"] == {"S": f"wu-c{i + 1}"}
        assert request["item"]["entity"] == {"S": "web_users"}
    elif op == "put":
        assert request["item"]["sk"] == {"S": f"ITEM#{100 + i}"}
        assert request["item"]["quantity"] == {"N": str(1 + i % 3)}
        assert request["item"]["unit_price"] == {"N": f"{i}.99"}
    else:
        assert request["key"] == {"pk": {"S": f"CART#cart-{(10 + i) // 2}"}, "sk": {"S": f"ITEM#{110 + i}"}}


def test_typed_writes_encode_in_the_items_order_piece_by_piece(encoder: Encoder) -> None:
    writes, expected = _writes()
    for size in (7, 64, 1_000):  # pieces that start inside the union (its slice offset matters)
        lines = [
            line for piece in pieces(writes.column("item"), size) for line in encoder.dynamodb_lines(piece).to_pylist()
        ]
        assert len(lines) == len(expected)
        for line, (table, op, i) in zip(lines, expected, strict=True):
            _check(line, table, op, i)


def test_spilled_and_sorted_items_encode_like_the_originals(encoder: Encoder) -> None:
    writes, _ = _writes()
    whole = encoder.dynamodb_lines(writes.column("item").chunk(0)).to_pylist()
    back = pa.ipc.read_record_batch(writes.slice(13, 50).to_batches()[0].serialize(), DYNAMODB_SCHEMA)
    assert encoder.dynamodb_lines(back.column("item")).to_pylist() == whole[13:63]
    unsorted = writes.column("item").chunk(0)  # members' offsets out of order after the shuffle: the take path
    terminated = encoder.dynamodb_lines(unsorted, terminated=True).to_pylist()
    assert terminated == [line + "\n" for line in whole]


def test_the_writer_writes_each_request_once_in_order(tmp_path: Path, encoder: Encoder) -> None:
    writes, expected = _writes()
    writer = DynamoDBWriter(tmp_path, encoder)
    writer.write(
        with_table_names(pa.concat_tables([writes.slice(0, 33), writes.slice(33)]))
    )  # as the router hands it over
    writer.close()
    lines = Path(writer.files.files[0]).read_text().splitlines()
    assert len(lines) == len(expected)
    for line, (table, op, i) in zip(lines, expected, strict=True):
        _check(line, table, op, i)
    assert writer.counts == {"web_users": 40, "cart_items": 40}


def test_rows_only_items_have_no_json(encoder: Encoder) -> None:
    simulation = Simulation(SimulationConfig(seed=3, scale=0.01, days=2), encode=False)
    items = next(output.dynamodb.column("item") for output in simulation.run() if output.dynamodb.num_rows)
    assert items.null_count == len(items)  # a rows-only run routes a null per write request
    with pytest.raises(ValueError, match="rows-only"):
        encoder.dynamodb_lines(items.chunk(0))


def test_rows_that_are_not_the_contract_are_refused() -> None:
    rows = pa.table({"web_user_id": ["wu-1"]})
    with pytest.raises(ValueError, match="web_users: DynamoDB rows do not match the contract schema"):
        dynamodb_items("web_users", "put", rows)
