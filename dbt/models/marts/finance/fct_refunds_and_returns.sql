-- Returns and refunds per day: returned items and their refund amounts, refund payments, return rate.
with returns as (
    select
        cast(created_at as date) as return_date,
        count(*) as returns_requested,
        sum(case when status = 'refunded' then 1 else 0 end) as returns_refunded,
        sum(case when status = 'refunded' then refund_amount else 0 end) as return_refund_amount
    from {{ ref('stg_shop__returns') }}
    group by cast(created_at as date)
),

refund_payments as (
    select refund_date, count(*) as refund_payments, sum(amount) as refunded_amount
    from {{ ref('fct_payments') }}
    where status = 'refunded'
    group by refund_date
),

items_sold as (
    select order_date, count(*) as paid_items
    from {{ ref('fct_order_items') }}
    where is_paid
    group by order_date
)

select
    dates.date_day,
    coalesce(returns.returns_requested, 0) as returns_requested,
    coalesce(returns.returns_refunded, 0) as returns_refunded,
    coalesce(returns.return_refund_amount, 0) as return_refund_amount,
    coalesce(refund_payments.refund_payments, 0) as refund_payments,
    coalesce(refund_payments.refunded_amount, 0) as refunded_amount,
    coalesce(items_sold.paid_items, 0) as paid_items,
    {{ ratio('returns.returns_requested', 'items_sold.paid_items') }} as return_rate
from {{ ref('dim_dates') }} as dates
left join returns on returns.return_date = dates.date_day
left join refund_payments on refund_payments.refund_date = dates.date_day
left join items_sold on items_sold.order_date = dates.date_day
