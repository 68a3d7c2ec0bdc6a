-- Products in a cart.
with source as (
    select * from {{ source('web', 'cart_items') }}
)

select
    cart_id,
    product_id,
    quantity,
    unit_price,
    cast(added_at as timestamp) as added_at,
    cast(updated_at as timestamp) as updated_at
from source
