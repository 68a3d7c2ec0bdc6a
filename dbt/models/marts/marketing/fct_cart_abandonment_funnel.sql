{{ config(
    materialized='incremental',
    unique_key=['session_date', 'device', 'channel'],
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- The cart abandonment funnel per day, device and channel: sessions -> product view -> cart -> checkout -> order.
-- Incremental runs recompute the days from the first one with a session fct_sessions loaded since this model's
-- last run (macro since_first_reloaded_period).
select
    session_date,
    device,
    channel,
    count(*) as sessions,
    sum(case when viewed_product then 1 else 0 end) as sessions_viewed_product,
    sum(case when added_to_cart then 1 else 0 end) as sessions_added_to_cart,
    sum(case when started_checkout then 1 else 0 end) as sessions_started_checkout,
    sum(case when converted then 1 else 0 end) as sessions_converted,
    sum(carts) as carts,
    sum(abandoned_carts) as abandoned_carts,
    sum(converted_carts) as converted_carts,
    sum(abandoned_cart_value) as abandoned_cart_value,
    {{ ratio('sum(abandoned_carts)', 'sum(abandoned_carts) + sum(converted_carts)') }} as cart_abandonment_rate,
    {{ ratio('sum(case when converted then 1 else 0 end)', 'count(*)') }} as session_conversion_rate,
    {{ run_started() }} as loaded_at
from {{ ref('fct_sessions') }}
where {{ since_first_reloaded_period('session_date', [[ref('fct_sessions'), 'session_date']]) }}
group by session_date, device, channel
