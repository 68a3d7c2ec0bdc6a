-- Revenue per month with average order value and month-over-month growth.
with months as (
    select
        month_start,
        sum(orders_placed) as orders_placed,
        sum(paid_orders) as paid_orders,
        sum(gross_revenue) as gross_revenue,
        sum(discounts) as discounts,
        sum(refunds) as refunds,
        sum(net_revenue) as net_revenue
    from {{ ref('fct_daily_revenue') }}
    group by month_start
)

select
    month_start,
    orders_placed,
    paid_orders,
    gross_revenue,
    discounts,
    refunds,
    net_revenue,
    {{ ratio('gross_revenue', 'paid_orders') }} as average_order_value,
    {{ ratio('net_revenue - lag(net_revenue) over (order by month_start)', 'lag(net_revenue) over (order by month_start)') }}
        as net_revenue_growth
from months
