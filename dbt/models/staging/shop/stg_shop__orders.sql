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
    {{ source_timestamp('placed_at') }} as placed_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
