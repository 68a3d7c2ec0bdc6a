-- Page and product views, cart actions, checkout; a fraction arrives late.
with source as (
    select * from {{ source('web', 'clickstream_events') }}
)

select
    event_id,
    session_id,
    web_user_id,
    event_type,
    product_id,
    page_url,
    {{ source_timestamp('event_ts') }} as event_ts,
    event_date
from source
