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
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from source
