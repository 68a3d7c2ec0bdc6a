-- Campaign attribution, last touch: an order is credited to the customer's latest campaign session that started
-- within var('attribution_window_days') before the order; without one, to the campaign recorded on the order.
with orders as (
    select order_id, customer_id, placed_at, campaign_id, status
    from {{ ref('stg_shop__orders') }}
),

campaign_sessions as (
    select session_id, customer_id, campaign_id, started_at
    from {{ ref('stg_web__sessions') }}
    where campaign_id is not null and customer_id is not null
),

touches as (
    select
        orders.order_id,
        campaign_sessions.session_id,
        campaign_sessions.campaign_id,
        row_number() over (
            partition by orders.order_id
            order by campaign_sessions.started_at desc, campaign_sessions.session_id desc
        ) as touch_rank
    from orders
    inner join campaign_sessions
        on campaign_sessions.customer_id = orders.customer_id
        and campaign_sessions.started_at <= orders.placed_at
        and campaign_sessions.started_at
            >= {{ dbt.dateadd('day', -1 * var('attribution_window_days'), 'orders.placed_at') }}
)

select
    orders.order_id,
    orders.customer_id,
    orders.placed_at,
    cast(orders.placed_at as date) as order_date,
    {{ is_paid_status('orders.status') }} as is_paid,
    coalesce(touches.campaign_id, orders.campaign_id) as attributed_campaign_id,
    case
        when touches.campaign_id is not null then 'last_touch_session'
        when orders.campaign_id is not null then 'order_campaign'
        else 'unattributed'
    end as attribution_source,
    touches.session_id as touch_session_id
from orders
left join touches on touches.order_id = orders.order_id and touches.touch_rank = 1
