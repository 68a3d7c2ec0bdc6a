"""The lakehouse domain library: table contract, CDC, Delta sinks, loads, catalog, local runtime and CLI."""
