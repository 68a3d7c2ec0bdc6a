"""Coerce wire values into the contract's types (docs/source-formats.md), or reject the record.

`build_columns` types a whole batch column by column with Arrow (the fast path) and falls back to the per-value
coercers below for a column Arrow will not take as is, so that each bad value is named and only its row rejected.
Coercers return canonical Python values: int / float / bool / str as such, `date` as days since epoch,
`timestamp` as microseconds since epoch, `decimal(12,2)` as validated decimal text. Each accepts every encoding a
supported source uses for that type (Debezium numbers, DynamoDB `N` strings, ISO-8601 text) and raises
`RecordRejected(WRONG_TYPE)` for anything else.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.cdc.model import QuarantineReason, RecordRejected
from lakehouse.contract import LOGICAL_TYPES, MONEY, TableContract

Coercer = Callable[[Any], Any]

_EPOCH_DATE = dt.date(1970, 1, 1)
_INT_RANGE = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_INTEGER_TEXT = re.compile(r"-?\d{1,19}")
_MONEY_TEXT = re.compile(r"-?\d{1,10}(\.\d{1,2})?")
_MONEY_QUANTUM = Decimal("0.01")
_MONEY_LIMIT = Decimal(10) ** 10


def _wrong(kind: str, value: Any) -> RecordRejected:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return RecordRejected(QuarantineReason.WRONG_TYPE, f"expected {kind}, got {shown}")


def coerce_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _wrong("string", value)


def _integer(kind: str) -> Coercer:
    low, high = _INT_RANGE[kind]

    def coerce(value: Any) -> int:
        if isinstance(value, bool):
            raise _wrong(kind, value)
        if isinstance(value, int):
            result = value
        else:
            integral_text = isinstance(value, str) and _INTEGER_TEXT.fullmatch(value)  # DynamoDB N
            integral_float = isinstance(value, float) and value.is_integer()
            if not (integral_text or integral_float):
                raise _wrong(kind, value)
            result = int(value)
        if not low <= result <= high:
            raise _wrong(kind, value)
        return result

    return coerce


def coerce_float64(value: Any) -> float:
    if isinstance(value, bool):
        raise _wrong("float64", value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            raise _wrong("float64", value) from None
        if not math.isnan(result):
            return result
    raise _wrong("float64", value)


def coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _wrong("bool", value)


def coerce_date(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31:
        return value  # io.debezium.time.Date: days since epoch
    if isinstance(value, str):
        try:
            return (dt.date.fromisoformat(value) - _EPOCH_DATE).days
        except ValueError:
            pass
    raise _wrong("date (days since epoch or YYYY-MM-DD)", value)


def parse_iso_timestamp_us(text: str) -> int:
    """ISO-8601 text to microseconds since epoch; naive text is read as UTC."""
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    delta = parsed - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_MAX_TIMESTAMP_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


def coerce_timestamp(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if -_MAX_TIMESTAMP_US <= value <= _MAX_TIMESTAMP_US:
            return value  # io.debezium.time.MicroTimestamp
    elif isinstance(value, str):
        try:
            return parse_iso_timestamp_us(value)
        except (ValueError, OverflowError):
            pass
    raise _wrong("timestamp (microseconds since epoch or ISO-8601)", value)


def coerce_money(value: Any) -> str:
    if isinstance(value, str) and _MONEY_TEXT.fullmatch(value):
        return value  # the common case: Debezium decimal.handling.mode=string
    if isinstance(value, bool):
        raise _wrong(MONEY, value)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        exact = number.quantize(_MONEY_QUANTUM) == number and abs(number) < _MONEY_LIMIT
    except (InvalidOperation, TypeError, ValueError):
        exact = False
    if not exact:
        raise _wrong(MONEY, value)
    return format(number.quantize(_MONEY_QUANTUM), "f")


def coerce_extra(value: Any) -> str:
    """Columns the contract does not know yet land in bronze as strings (JSON text unless already a string)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


COERCERS: dict[str, Coercer] = {
    "string": coerce_string,
    "int32": _integer("int32"),
    "int64": _integer("int64"),
    "float64": coerce_float64,
    "bool": coerce_bool,
    "date": coerce_date,
    "timestamp": coerce_timestamp,
    MONEY: coerce_money,
}


class RowImages(Protocol):
    """Row images of one table's changes, readable column by column."""

    def __len__(self) -> int: ...

    def names(self) -> set[str]:
        """Source columns with at least one non-null value."""
        ...

    def arrow(self, name: str) -> pa.Array | None:
        """The column as Arrow typed it (nulls when absent), or None when Arrow could not type it."""
        ...

    def python(self, name: str) -> list[Any]:
        """The column as Python values (for the value-by-value path)."""
        ...

    def take(self, indices: Sequence[int]) -> RowImages: ...


class DictImages:
    """Row images as decoded dicts (the per-record decoders)."""

    def __init__(self, images: Sequence[Mapping[str, Any]]) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def names(self) -> set[str]:
        shapes = {tuple(image) for image in self.images}  # few distinct key orders per table
        candidates = set().union(*shapes)
        return {n for n in candidates if any(image.get(n) is not None for image in self.images)}

    def arrow(self, name: str) -> pa.Array | None:
        try:
            return pa.array(self.python(name))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return None

    def python(self, name: str) -> list[Any]:
        return [image.get(name) for image in self.images]

    def take(self, indices: Sequence[int]) -> DictImages:
        return DictImages([self.images[i] for i in indices])


class StructImages:
    """Row images as an Arrow struct column (the batch JSON path)."""

    def __init__(self, images: pa.StructArray) -> None:
        self.images = images
        self._fields = {images.type.field(i).name: i for i in range(images.type.num_fields)}

    def __len__(self) -> int:
        return len(self.images)

    def names(self) -> set[str]:
        return {name for name in self._fields if self._child(name).null_count < len(self.images)}

    def arrow(self, name: str) -> pa.Array | None:
        if name not in self._fields:
            return pa.nulls(len(self.images))
        return self._child(name)

    def _child(self, name: str) -> pa.Array:
        child = self.images.field(name)
        if self.images.null_count or self.images.offset or len(child) != len(self.images):
            return pc.struct_field(self.images, name)  # honours the struct's own nulls and offset
        return child

    def python(self, name: str) -> list[Any]:
        array = self.arrow(name)
        return array.to_pylist() if array is not None else [None] * len(self.images)

    def take(self, indices: Sequence[int]) -> StructImages:
        return StructImages(self.images.take(pa.array(indices, pa.int64())))


@dataclass
class Columns:
    """Contract-typed Arrow columns for a list of row images, and the rows that did not fit (index -> reason)."""

    arrays: dict[str, pa.Array]
    rejected: dict[int, RecordRejected]


def build_columns(contract: TableContract, images: RowImages, deletes: pa.Array) -> Columns:
    """Validate and type row images column by column.

    Fast path: Arrow types each column from the values and casts it (strict, vectorised). A column Arrow cannot
    take as is (wrong types, text numbers out of range, ...) is redone value by value with the coercer of its
    type, which names each bad value. Primary key columns must be non-null; other non-nullable columns must be
    non-null except in a delete's before image (REPLICA IDENTITY DEFAULT sends only the key). Source columns
    outside the contract with any non-null value become extra string columns (schema evolution, docs/cdc.md).
    """
    rejected: dict[int, RecordRejected] = {}
    arrays: dict[str, pa.Array] = {}
    for column in contract.columns:
        inferred = images.arrow(column.name)
        array = None if inferred is None else _cast_inferred(inferred, column.type)
        if array is None:
            array = _slow_column(images.python(column.name), column.type, column.name, contract.name, rejected)
        arrays[column.name] = array
        if not array.null_count:
            continue
        is_null = array.is_null()
        if column.name in contract.primary_key:
            reason, what = QuarantineReason.MISSING_PRIMARY_KEY, "primary key column"
        elif not column.nullable:
            is_null = pc.and_(is_null, pc.invert(deletes))
            reason, what = QuarantineReason.MISSING_REQUIRED_COLUMN, "non-nullable column"
        else:
            continue
        for index in pc.indices_nonzero(is_null).to_pylist():
            if index not in rejected:
                rejected[index] = RecordRejected(reason, f"{what} {column.name!r} is missing", contract.name)
    for name in sorted(images.names() - set(arrays)):
        inferred = images.arrow(name)
        if inferred is not None and (pa.types.is_string(inferred.type) or pa.types.is_null(inferred.type)):
            arrays[name] = inferred.cast(pa.string())
        else:
            arrays[name] = pa.array([None if v is None else coerce_extra(v) for v in images.python(name)], pa.string())
    return Columns(arrays, rejected)


def _cast_inferred(inferred: pa.Array, logical: str) -> pa.Array | None:
    """The column cast strictly from the type Arrow inferred, or None when a value needs a closer look."""
    target = LOGICAL_TYPES[logical]
    kind = inferred.type
    try:
        if pa.types.is_null(kind):
            return pa.nulls(len(inferred), target)
        if logical == "string" or logical == "bool":
            return inferred if kind == target else None
        if logical in ("int32", "int64"):
            return pc.cast(inferred, target) if pa.types.is_integer(kind) or pa.types.is_string(kind) else None
        if logical == "float64":
            return pc.cast(inferred, target) if pa.types.is_integer(kind) or pa.types.is_floating(kind) else None
        if logical == "date":
            if pa.types.is_integer(kind):
                return pc.cast(pc.cast(inferred, pa.int32()), target)
            return pc.cast(inferred, target) if pa.types.is_string(kind) else None
        if logical == "timestamp":
            if pa.types.is_integer(kind):
                return pc.cast(inferred, target)
            return pc.cast(inferred, target) if pa.types.is_string(kind) else None
        if logical == MONEY:
            return pc.cast(inferred, target) if pa.types.is_string(kind) else None
    except (pa.ArrowException, ValueError, OverflowError):
        return None
    return None


def _slow_column(
    values: list[Any], logical: str, name: str, table: str, rejected: dict[int, RecordRejected]
) -> pa.Array:
    coerce = COERCERS[logical]
    coerced: list[Any] = []
    for index, value in enumerate(values):
        if value is None:
            coerced.append(None)
            continue
        try:
            coerced.append(coerce(value))
        except RecordRejected as error:
            coerced.append(None)
            if index not in rejected:
                rejected[index] = RecordRejected(error.reason, f"column {name!r}: {error.detail}", table)
    if logical == MONEY:
        return pc.cast(pa.array(coerced, pa.string()), LOGICAL_TYPES[MONEY])
    return pa.array(coerced, LOGICAL_TYPES[logical])
