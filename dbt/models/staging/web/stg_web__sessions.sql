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
    cast(started_at as timestamp) as started_at,
    cast(ended_at as timestamp) as ended_at,
    page_views,
    cast(updated_at as timestamp) as updated_at
from source
