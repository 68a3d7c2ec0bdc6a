-- The catalog; price and category change over time.
with source as (
    select * from {{ source('shop', 'products') }}
)

select
    product_id,
    sku,
    name,
    category,
    subcategory,
    brand,
    price,
    cost,
    is_active,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from source
