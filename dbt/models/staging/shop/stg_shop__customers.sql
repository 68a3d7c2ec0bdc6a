-- Shop customers; address and segment change over time; erasure requests delete the row.
with source as (
    select * from {{ source('shop', 'customers') }}
)

select
    customer_id,
    email,
    first_name,
    last_name,
    phone,
    segment,
    street,
    city,
    postal_code,
    country,
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
