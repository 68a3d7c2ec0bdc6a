-- Web sessions with device, channel and campaign.
with source as (
    select * from {{ source('web', 'web_sessions') }}
)

select
    session_id,
    web_user_id,
    customer_id,
    device,
    channel,
    campaign_id,
    {{ source_timestamp('started_at') }} as started_at,
    {{ source_timestamp('ended_at') }} as ended_at,
    page_views,
    {{ source_timestamp('updated_at') }} as updated_at
from source
