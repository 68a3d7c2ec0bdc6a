"""Delta Lake schema types -> Hive/Glue column types (the type strings Athena and Glue expect)."""

from __future__ import annotations

from typing import Any

# Delta primitive type name -> Hive type name; decimals keep their "decimal(p,s)" spelling.
_PRIMITIVES = {
    "string": "string",
    "long": "bigint",
    "integer": "int",
    "short": "smallint",
    "byte": "tinyint",
    "float": "float",
    "double": "double",
    "boolean": "boolean",
    "binary": "binary",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp",
}


def hive_type(delta_type: Any) -> str:
    """The Hive type of a deltalake schema type (PrimitiveType, ArrayType, MapType, StructType)."""
    from deltalake.schema import ArrayType, MapType, PrimitiveType, StructType

    if isinstance(delta_type, PrimitiveType):
        name = delta_type.type
        if name.startswith("decimal"):
            return name.replace(" ", "")
        try:
            return _PRIMITIVES[name]
        except KeyError:
            raise ValueError(f"no Hive type for Delta type {name!r}") from None
    if isinstance(delta_type, ArrayType):
        return f"array<{hive_type(delta_type.element_type)}>"
    if isinstance(delta_type, MapType):
        return f"map<{hive_type(delta_type.key_type)},{hive_type(delta_type.value_type)}>"
    if isinstance(delta_type, StructType):
        return "struct<" + ",".join(f"{f.name}:{hive_type(f.type)}" for f in delta_type.fields) + ">"
    raise ValueError(f"no Hive type for Delta type {delta_type!r}")
