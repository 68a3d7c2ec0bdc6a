-- Revenue in fct_orders equals the sum of order items of paid orders, computed straight from silver.
with silver as (
    select coalesce(sum(items.line_total), 0) as revenue
    from {{ source('shop', 'order_items') }} as items
    inner join {{ source('shop', 'orders') }} as orders on orders.order_id = items.order_id
    where orders.status in ('paid', 'shipped', 'delivered', 'returned')
),

mart as (
    select coalesce(sum(gross_revenue), 0) as revenue from {{ ref('fct_orders') }}
)

select silver.revenue as silver_revenue, mart.revenue as mart_revenue
from silver
cross join mart
where silver.revenue <> mart.revenue
