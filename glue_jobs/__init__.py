"""glue_jobs package."""
