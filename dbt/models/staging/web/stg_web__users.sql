-- The cross-system id mapping: a web visitor id and, once known, the OLTP customer id.
with source as (
    select * from {{ source('web', 'web_users') }}
)

select
    web_user_id,
    customer_id,
    {{ source_timestamp('first_seen_at') }} as first_seen_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
