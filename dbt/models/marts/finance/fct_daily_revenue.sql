{{ config(
    materialized='incremental',
    unique_key='date_day',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- Revenue per calendar day: orders placed and paid, gross revenue, refunds (by refund date), net, average order value.
-- Incremental runs recompute the days from the first one with an order, a refund or a session (the calendar grows
-- with sessions too) that the facts loaded since this model's last run (macro since_first_reloaded_period).
{%- set reloaded = [[ref('fct_orders'), 'order_date'], [ref('fct_payments'), 'refund_date'], [ref('fct_sessions'), 'session_date']] %}
with orders as (
    select
        order_date,
        count(*) as orders_placed,
        sum(case when is_paid then 1 else 0 end) as paid_orders,
        sum(gross_revenue) as gross_revenue,
        sum(case when is_paid then discount_total else 0 end) as discounts
    from {{ ref('fct_orders') }}
    where {{ since_first_reloaded_period('order_date', reloaded) }}
    group by order_date
),

refunds as (
    -- refunds of paid orders (returns) on the day they were refunded; cancellations were never revenue
    select payments.refund_date, sum(payments.amount) as refunds
    from {{ ref('fct_payments') }} as payments
    inner join {{ ref('fct_orders') }} as orders on orders.order_id = payments.order_id
    where payments.status = 'refunded' and orders.is_paid
        and {{ since_first_reloaded_period('payments.refund_date', reloaded) }}
    group by payments.refund_date
)

select
    dates.date_day,
    dates.month_start,
    coalesce(orders.orders_placed, 0) as orders_placed,
    coalesce(orders.paid_orders, 0) as paid_orders,
    coalesce(orders.gross_revenue, 0) as gross_revenue,
    coalesce(orders.discounts, 0) as discounts,
    coalesce(refunds.refunds, 0) as refunds,
    coalesce(orders.gross_revenue, 0) - coalesce(refunds.refunds, 0) as net_revenue,
    {{ ratio('orders.gross_revenue', 'orders.paid_orders') }} as average_order_value,
    {{ run_started() }} as loaded_at
from {{ ref('dim_dates') }} as dates
left join orders on orders.order_date = dates.date_day
left join refunds on refunds.refund_date = dates.date_day
where {{ since_first_reloaded_period('dates.date_day', reloaded) }}
