from __future__ import annotations

import pytest
from deltalake.schema import ArrayType, Field, MapType, PrimitiveType, StructType

from lakehouse.catalog.glue import DELTA_PARAMETERS, table_input
from lakehouse.catalog.types import hive_type


@pytest.mark.parametrize(
    ("delta", "hive"),
    [
        ("long", "bigint"),
        ("integer", "int"),
        ("short", "smallint"),
        ("byte", "tinyint"),
        ("double", "double"),
        ("float", "float"),
        ("boolean", "boolean"),
        ("string", "string"),
        ("binary", "binary"),
        ("date", "date"),
        ("timestamp", "timestamp"),
        ("timestamp_ntz", "timestamp"),
        ("decimal(12,2)", "decimal(12,2)"),
    ],
)
def test_primitive_types(delta: str, hive: str) -> None:
    assert hive_type(PrimitiveType(delta)) == hive


def test_nested_types() -> None:
    struct = StructType([Field("url", PrimitiveType("string")), Field("bytes", PrimitiveType("long"))])
    assert hive_type(ArrayType(struct)) == "array<struct<url:string,bytes:bigint>>"
    assert hive_type(MapType(PrimitiveType("string"), PrimitiveType("integer"))) == "map<string,int>"


def test_table_input_is_an_athena_native_delta_table() -> None:
    schema = StructType(
        [Field("id", PrimitiveType("long"), nullable=False), Field("amount", PrimitiveType("decimal(12,2)"))]
    )
    table = table_input("orders", "s3://lake/silver/orders", schema)
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert (
        table["Parameters"]
        == DELTA_PARAMETERS
        == {
            "table_type": "DELTA",
            "spark.sql.sources.provider": "delta",
            "EXTERNAL": "TRUE",
        }
    )
    descriptor = table["StorageDescriptor"]
    assert descriptor["Location"] == "s3://lake/silver/orders"
    assert descriptor["Columns"] == [{"Name": "id", "Type": "bigint"}, {"Name": "amount", "Type": "decimal(12,2)"}]
    assert descriptor["SerdeInfo"]["Parameters"] == {"path": "s3://lake/silver/orders"}
