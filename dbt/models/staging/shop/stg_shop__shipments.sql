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
    cast(shipped_at as timestamp) as shipped_at,
    cast(delivered_at as timestamp) as delivered_at,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from source
