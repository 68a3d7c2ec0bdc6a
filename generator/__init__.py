"""The synthetic shop simulator.

Entry points (stable; other workstreams call these):

- `generator.config.SimulationConfig(seed=42, scale=0.01, days=31, start_date=date(2026, 11, 1),
  abandonment_rate=0.7, late_fraction=0.02, ...)`: everything that determines a run (frozen, validated).
- `generator.run.generate_local(config, out_dir, progress=None) -> generator.run.RunSummary`: runs the simulation
  and writes the local layout of docs/source-formats.md (`cdc/part-*.jsonl`, `dynamodb/part-*.jsonl`,
  `landing/<table>/dt=YYYY-MM-DD/part-*.jsonl.gz`, `snapshot/<table>.parquet`, `manifest.json`).
  `progress(days_done, days_total)` is called after each slice. Same config -> byte-identical files.
- `generator.simulation.Simulation(config).run()`: the same simulation as an iterator of `SliceOutput`s
  (`cdc` / `dynamodb` / `landing` event tables already JSON-encoded, in emit order; `snapshot` final rows) for
  sinks that are not local files (Kinesis, DynamoDB, S3); afterwards `final_snapshot()` yields (table, rows)
  chunks of customers, products and campaigns. `Simulation(config, encode=False)` skips JSON (benchmark).
  `run()` routes each slice in a worker thread while the next one is simulated (output as if sequential).
  Creating a `Simulation` makes jemalloc pyarrow's default memory pool for the process (generator/memory.py;
  set `ARROW_DEFAULT_MEMORY_POOL` to keep another).
- `generator.entities.generate_entity(entity, count, seed=42, start_id=1, as_of_us=None) -> pa.Table`:
  deterministic contract-typed rows of `customers`, `products` or `campaigns` (for the REST API).
- `generator.entities.campaigns_for(config) -> pa.Table`: the campaigns of a simulation (what orders reference).
- `generator.encoding.Encoder`: vectorised JSON encoders (Debezium row images, DynamoDB items, landing records).
- `generator.demo.simulate_stage(ctx)`: the demo stage "simulate".

CLI: `lakehouse generate run --out DIR --scale S --days D --seed N`; benchmark: `lakehouse bench generator`.
"""
