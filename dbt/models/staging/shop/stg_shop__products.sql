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
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
