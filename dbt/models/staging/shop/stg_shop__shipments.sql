-- Created after payment; shipped and delivered later.
with source as (
    select * from {{ source('shop', 'shipments') }}
)

select
    shipment_id,
    order_id,
    carrier,
    tracking_number,
    status,
    {{ source_timestamp('shipped_at') }} as shipped_at,
    {{ source_timestamp('delivered_at') }} as delivered_at,
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
