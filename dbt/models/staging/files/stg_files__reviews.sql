-- Product reviews of delivered order items.
with source as (
    select * from {{ source('files', 'reviews') }}
)

select
    review_id,
    order_item_id,
    order_id,
    product_id,
    customer_id,
    rating,
    title,
    body,
    {{ source_timestamp('created_at') }} as created_at
from source
