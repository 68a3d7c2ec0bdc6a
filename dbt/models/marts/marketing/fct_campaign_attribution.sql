-- Campaign performance with last-touch attribution: sessions, attributed paid orders and revenue, return on spend.
with campaigns as (
    select * from {{ ref('stg_api__campaigns') }}
),

attributed as (
    select
        attribution.attributed_campaign_id as campaign_id,
        count(*) as attributed_orders,
        sum(orders.gross_revenue) as attributed_revenue
    from {{ ref('int_orders_attributed') }} as attribution
    inner join {{ ref('fct_orders') }} as orders on orders.order_id = attribution.order_id
    where attribution.is_paid and attribution.attributed_campaign_id is not null
    group by attribution.attributed_campaign_id
),

sessions as (
    select campaign_id, count(*) as sessions, sum(case when converted then 1 else 0 end) as converted_sessions
    from {{ ref('fct_sessions') }}
    where campaign_id is not null
    group by campaign_id
)

select
    campaigns.campaign_id,
    campaigns.name,
    campaigns.channel,
    campaigns.start_date,
    campaigns.end_date,
    campaigns.budget,
    coalesce(sessions.sessions, 0) as sessions,
    coalesce(sessions.converted_sessions, 0) as converted_sessions,
    coalesce(attributed.attributed_orders, 0) as attributed_orders,
    coalesce(attributed.attributed_revenue, 0) as attributed_revenue,
    {{ ratio('attributed.attributed_revenue', 'campaigns.budget') }} as return_on_ad_spend,
    {{ ratio('campaigns.budget', 'attributed.attributed_orders') }} as cost_per_order
from campaigns
left join attributed on attributed.campaign_id = campaigns.campaign_id
left join sessions on sessions.campaign_id = campaigns.campaign_id
