{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- One row per web session with its funnel progress.
-- depends_on: {{ ref('stg_web__sessions') }} {{ ref('stg_web__clickstream_events') }} {{ ref('stg_web__carts') }}
{% if is_incremental() %}
{% set changed_sessions_sql %}
    -- sessions whose row, events or carts changed inside the lookback window; only these are rolled up
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
with changed_sessions as (
    {{ changed_sessions_sql }}
),

funnel as (
    {{ sessions_funnelled('changed_sessions', since_day=first_session_day(changed_sessions_sql)) }}
)

select *, {{ run_started() }} as loaded_at from funnel
{% else %}
select *, {{ run_started() }} as loaded_at from {{ ref('int_sessions_funnelled') }}
{% endif %}
