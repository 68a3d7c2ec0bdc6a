-- One row per order; status moves placed -> paid -> shipped -> delivered (or cancelled/returned).
with source as (
    select * from {{ source('shop', 'orders') }}
)

select
    order_id,
    customer_id,
    status,
    order_total,
    currency,
    shipping_country,
    campaign_id,
    cart_id,
    cast(placed_at as timestamp) as placed_at,
    cast(updated_at as timestamp) as updated_at
from source
