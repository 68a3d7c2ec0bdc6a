-- Returned order items and their refunds.
with source as (
    select * from {{ source('shop', 'returns') }}
)

select
    return_id,
    order_id,
    order_item_id,
    reason,
    status,
    refund_amount,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from source
