-- The cross-system id mapping: a web visitor id and, once known, the OLTP customer id.
with source as (
    select * from {{ source('web', 'web_users') }}
)

select
    web_user_id,
    customer_id,
    cast(first_seen_at as timestamp) as first_seen_at,
    cast(updated_at as timestamp) as updated_at
from source
