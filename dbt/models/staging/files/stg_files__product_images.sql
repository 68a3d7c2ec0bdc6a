-- Metadata of product images uploaded to the media store.
with source as (
    select * from {{ source('files', 'product_images') }}
)

select
    image_id,
    product_id,
    url,
    width,
    height,
    format,
    size_bytes,
    alt_text,
    {{ source_timestamp('uploaded_at') }} as uploaded_at
from source
