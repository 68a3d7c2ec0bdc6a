-- Marketing campaigns, pulled from the API with an updated_since cursor.
with source as (
    select * from {{ source('api', 'campaigns') }}
)

select
    campaign_id,
    name,
    channel,
    start_date,
    end_date,
    budget,
    discount_pct,
    {{ source_timestamp('updated_at') }} as updated_at
from source
