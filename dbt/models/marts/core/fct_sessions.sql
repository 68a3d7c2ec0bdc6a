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
with changed_sessions as (
    -- sessions whose row, events or carts changed inside the lookback window; only these are rolled up
    select session_id from {{ ref('stg_web__sessions') }}
    where {{ lookback_filter('updated_at', 'last_changed_at') }}
    union
    select session_id from {{ ref('stg_web__clickstream_events') }}
    where {{ lookback_filter('event_ts', 'last_changed_at') }}
    union
    select session_id from {{ ref('stg_web__carts') }}
    where {{ lookback_filter('updated_at', 'last_changed_at') }}
),

funnel as (
    {{ sessions_funnelled('changed_sessions') }}
)

select * from funnel
{% else %}
select * from {{ ref('int_sessions_funnelled') }}
{% endif %}
