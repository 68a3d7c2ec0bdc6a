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
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
