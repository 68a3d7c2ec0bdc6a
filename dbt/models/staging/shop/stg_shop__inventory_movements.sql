-- Stock in and out per product and warehouse (signed quantity).
with source as (
    select * from {{ source('shop', 'inventory_movements') }}
)

select
    movement_id,
    product_id,
    warehouse,
    quantity,
    reason,
    order_id,
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
