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
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from source
