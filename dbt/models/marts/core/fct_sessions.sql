{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- One row per web session with its funnel progress.
select *
from {{ ref('int_sessions_funnelled') }}
where {{ lookback_filter('last_changed_at') }}
