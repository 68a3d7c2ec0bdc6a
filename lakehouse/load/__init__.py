"""Batch loads with dlt into the lake's silver layer: the pipeline runner (`pipeline`), the quarantine for bad
input (`quarantine`) and the run report (`report`). Entry points: `lakehouse load ...` and lambdas/batch_load."""
