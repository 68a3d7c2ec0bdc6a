import pyarrow as pa
import pytest

from lakehouse.contract import TABLES, Column, SourceSystem, TableContract, get_table, tables_from


def test_every_source_system_has_tables() -> None:
    for source in SourceSystem:
        assert tables_from(source), source


def test_arrow_schema_follows_the_declared_columns() -> None:
    orders = get_table("orders")
    schema = orders.arrow_schema()
    assert schema.names == orders.column_names
    assert schema.field("order_total").type == pa.decimal128(12, 2)
    assert schema.field("placed_at").type == pa.timestamp("us", tz="UTC")
    assert not schema.field("order_id").nullable


def test_foreign_keys_point_at_declared_columns() -> None:
    for table in TABLES.values():
        for target in table.foreign_keys.values():
            name, _, column = target.partition(".")
            assert column in get_table(name).column_names


def test_unknown_table_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="the contract declares: customers"):
        get_table("nope")


def test_a_nullable_primary_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be non-nullable"):
        TableContract(
            name="t",
            source=SourceSystem.OLTP,
            description="",
            columns=(Column("id", "int64"), Column("updated_at", "timestamp")),
            primary_key=("id",),
        )


def test_an_unknown_logical_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown logical type"):
        Column("x", "varchar")
