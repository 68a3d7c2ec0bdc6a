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
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
