-- Lines of an order; committed in the same transaction as the order.
with source as (
    select * from {{ source('shop', 'order_items') }}
)

select
    order_item_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    discount,
    line_total,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from source
