{{ config(
    materialized='incremental',
    unique_key='date_day',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- Calendar days covering every order and session, generated (no source table). Incremental runs only look at
-- orders and sessions changed inside the lookback window (an order is placed, and a session starts, no later than
-- its last change) and extend the calendar they already hold, instead of scanning every row for its bounds.
{%- set changed = lookback_filter('updated_at', 'date_day') %}
with ranges as (
    select min(cast(placed_at as date)) as first_day, max(cast(placed_at as date)) as last_day
    from {{ ref('stg_shop__orders') }}
    where {{ changed }}
    union all
    select min(cast(updated_at as date)), max(cast(updated_at as date))
    from {{ ref('stg_shop__orders') }}
    where {{ changed }}
    union all
    select min(cast(started_at as date)), max(cast(started_at as date))
    from {{ ref('stg_web__sessions') }}
    where {{ changed }}
    {% if is_incremental() %}
    union all
    select min(date_day), max(date_day) from {{ this }}
    {% endif %}
),

bounds as (
    select min(first_day) as first_day, max(last_day) as last_day from ranges
),

days as (
    {{ date_spine('bounds', 'first_day', 'last_day') }}
)

select
    date_day,
    year(date_day) as year,
    quarter(date_day) as quarter,
    month(date_day) as month,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
    cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
    {{ iso_day_of_week('date_day') }} as iso_day_of_week,
    {{ iso_day_of_week('date_day') }} >= 6 as is_weekend
from days
