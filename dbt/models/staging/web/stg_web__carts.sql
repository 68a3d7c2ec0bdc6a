-- Shopping carts; most are abandoned, the rest convert into an order.
with source as (
    select * from {{ source('web', 'carts') }}
)

select
    cart_id,
    session_id,
    customer_id,
    status,
    item_count,
    cart_value,
    order_id,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from source
