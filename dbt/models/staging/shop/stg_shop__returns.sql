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
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
