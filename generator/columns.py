"""Numpy -> Arrow column builders with the contract's types (money from integer cents, timestamps from
microseconds), and a contract-typed table constructor."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from lakehouse.contract import get_table

TIMESTAMP = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(12, 2)


def money(cents: np.ndarray) -> pa.Array:
    """decimal(12,2) from int64 cents, without going through Python objects."""
    low = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(low), 2), dtype=np.int64)
    words[:, 0] = low
    words[:, 1] = np.where(low < 0, -1, 0)
    return pa.Array.from_buffers(MONEY, len(low), [None, pa.py_buffer(words.tobytes())])


def timestamps(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(us, dtype=np.int64), type=pa.int64(), mask=null).cast(TIMESTAMP)


def dates(days_since_epoch: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days_since_epoch, dtype=np.int32), type=pa.int32()).cast(pa.date32())


def ints(values: np.ndarray, type_: pa.DataType = pa.int64(), null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values), type=type_, mask=null)


def strings(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, type=pa.string(), mask=null)


def prefixed_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """String ids like `sess-123` from integers."""
    import pyarrow.compute as pc

    digits = pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(prefix, digits, "")


def contract_table(name: str, columns: Mapping[str, pa.Array | np.ndarray]) -> pa.Table:
    """A table with exactly the contract's schema of `name` (column order, types, nullability)."""
    schema = get_table(name).arrow_schema()
    missing = set(schema.names) - set(columns)
    extra = set(columns) - set(schema.names)
    if missing or extra:
        raise ValueError(f"{name}: missing columns {sorted(missing)}, unexpected columns {sorted(extra)}")
    arrays = []
    for field in schema:
        array = columns[field.name]
        if not isinstance(array, pa.Array | pa.ChunkedArray):
            array = pa.array(array)
        if array.type != field.type:
            array = array.cast(field.type)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)
