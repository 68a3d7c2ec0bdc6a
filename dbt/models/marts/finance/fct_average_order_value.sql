{{ config(
    materialized='incremental',
    unique_key=['month_start', 'customer_segment'],
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- Average order value per month and customer segment (the segment the customer had when ordering). Incremental
-- runs recompute the months from the first one with an order fct_orders loaded since this model's last run.
select
    cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start,
    coalesce(customer_segment, 'unknown') as customer_segment,
    count(*) as paid_orders,
    sum(gross_revenue) as gross_revenue,
    sum(units) as units,
    {{ ratio('sum(gross_revenue)', 'count(*)') }} as average_order_value,
    {{ ratio('sum(units)', 'count(*)') }} as units_per_order,
    {{ run_started() }} as loaded_at
from {{ ref('fct_orders') }}
where is_paid
    and {{ since_first_reloaded_period('order_date', [[ref('fct_orders'), 'order_date']], period='month') }}
group by 1, 2
