-- Products in a cart.
with source as (
    select * from {{ source('web', 'cart_items') }}
)

select
    cart_id,
    product_id,
    quantity,
    unit_price,
    {{ source_timestamp('added_at') }} as added_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
