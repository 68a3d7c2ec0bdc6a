{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='merge',
    incremental_predicates=[merge_also_on('session_date')],
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- One row per web session with its funnel progress. The merge also matches on session_date: a session's start never
-- moves, and the equality lets DuckDB skip target sessions outside the batch's dates (merge_also_on).
-- depends_on: {{ ref('stg_web__sessions') }} {{ ref('stg_web__clickstream_events') }} {{ ref('stg_web__carts') }}
{% if is_incremental() %}
{% set changed_sessions_sql %}
    -- sessions whose row, events or carts changed inside the lookback window: where to start the roll-up
    select session_id from {{ ref('stg_web__sessions') }}
    where {{ lookback_filter('updated_at', 'last_changed_at') }}
    union
    select session_id from {{ ref('stg_web__clickstream_events') }}
    -- event_date is the partition column: the date bound prunes partitions before the timestamp bound is read
    where {{ lookback_date_filter('event_date', 'last_changed_at') }}
        and {{ lookback_filter('event_ts', 'last_changed_at') }}
    union
    select session_id from {{ ref('stg_web__carts') }}
    where {{ lookback_filter('updated_at', 'last_changed_at') }}
{% endset %}
with funnel as (
    {{ sessions_funnelled(since_day=first_session_day(changed_sessions_sql, lookback_start('last_changed_at'))) }}
)

select *, {{ run_started() }} as loaded_at from funnel
-- the sessions that changed inside the window: their own row, an event or a cart (first_session_day covers them)
where {{ lookback_filter('last_changed_at', 'last_changed_at') }}
{% else %}
select *, {{ run_started() }} as loaded_at from {{ ref('int_sessions_funnelled') }}
{% endif %}
