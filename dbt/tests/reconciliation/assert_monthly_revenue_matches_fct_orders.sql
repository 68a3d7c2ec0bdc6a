-- The finance marts add up: monthly gross revenue over all months equals fct_orders' gross revenue.
with monthly as (
    select coalesce(sum(gross_revenue), 0) as revenue from {{ ref('fct_monthly_revenue') }}
),

orders as (
    select coalesce(sum(gross_revenue), 0) as revenue from {{ ref('fct_orders') }}
)

select monthly.revenue as monthly_revenue, orders.revenue as orders_revenue
from monthly
cross join orders
where monthly.revenue <> orders.revenue
