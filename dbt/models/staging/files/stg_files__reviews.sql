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
    cast(created_at as timestamp) as created_at
from source
