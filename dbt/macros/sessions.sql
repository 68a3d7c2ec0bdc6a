{#- Sessions to carts to orders: how far each web session got in the funnel. `since_day`, when given, is a SQL date:
    only sessions that started on or after it are rolled up, with their events (clickstream partitions from that
    day on, event_date) and carts (created since then): a session's events and carts come after it starts, so these
    are all of them, and the literal bound lets delta_scan skip the older files. Incremental runs pass the day
    before the earliest changed session started (first_session_day) and keep the rows whose last_changed_at falls
    inside the lookback window: a session changed exactly when its row, an event or a cart did, so this needs no
    list of changed sessions to probe (fct_sessions took 1.0-1.2 s instead of 0.7 s at scale 4 with one). -#}
{% macro sessions_funnelled(since_day=none) -%}
{%- set sessions_filter = ("where started_at >= " ~ since_day) if since_day else "" -%}
{%- set events_filter = ("where event_date >= " ~ since_day) if since_day else "" -%}
{%- set carts_filter = ("where created_at >= " ~ since_day) if since_day else "" -%}
with sessions as (
    select * from {{ ref('stg_web__sessions') }}
    {{ sessions_filter }}
),

events as (
    select
        session_id,
        count(*) as events,
        sum(case when event_type = 'product_view' then 1 else 0 end) as product_views,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_cart_events,
        sum(case when event_type = 'checkout_start' then 1 else 0 end) as checkout_events,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchase_events,
        max(event_ts) as last_event_at
    from {{ ref('stg_web__clickstream_events') }}
    {{ events_filter }}
    group by session_id
),

carts as (
    select
        session_id,
        count(*) as carts,
        {{ count_of("sum(case when status = 'abandoned' then 1 else 0 end)") }} as abandoned_carts,
        {{ count_of("sum(case when status = 'converted' then 1 else 0 end)") }} as converted_carts,
        {{ money('sum(cart_value)') }} as cart_value,
        {{ money("sum(case when status = 'abandoned' then cart_value else 0 end)") }} as abandoned_cart_value,
        max(order_id) as order_id,
        max(updated_at) as last_cart_change_at
    from {{ ref('stg_web__carts') }}
    {{ carts_filter }}
    group by session_id
)

select
    sessions.session_id,
    sessions.web_user_id,
    sessions.customer_id,
    sessions.device,
    sessions.channel,
    sessions.campaign_id,
    sessions.started_at,
    cast(sessions.started_at as date) as session_date,
    sessions.ended_at,
    sessions.page_views,
    coalesce(events.events, 0) as events,
    coalesce(events.product_views, 0) > 0 as viewed_product,
    coalesce(carts.carts, 0) > 0 or coalesce(events.add_to_cart_events, 0) > 0 as added_to_cart,
    coalesce(events.checkout_events, 0) > 0 or coalesce(carts.converted_carts, 0) > 0 as started_checkout,
    coalesce(carts.converted_carts, 0) > 0 as converted,
    coalesce(carts.abandoned_carts, 0) > 0 as abandoned_cart,
    coalesce(carts.carts, 0) as carts,
    coalesce(carts.abandoned_carts, 0) as abandoned_carts,
    coalesce(carts.converted_carts, 0) as converted_carts,
    coalesce(carts.cart_value, 0) as cart_value,
    coalesce(carts.abandoned_cart_value, 0) as abandoned_cart_value,
    carts.order_id,
    {{ greatest_not_null(['sessions.updated_at', 'events.last_event_at', 'carts.last_cart_change_at']) }}
        as last_changed_at
from sessions
left join events on sessions.session_id = events.session_id
left join carts on sessions.session_id = carts.session_id
{%- endmacro %}

{#- The day before the earliest start of the sessions returned by `changed_sessions_sql`, or of the lookback window
    when none changed, as a SQL date literal (none when it cannot be known at compile time). A session's events
    happen after it starts, so its events lie in the clickstream partitions from that day on (one day of margin for
    clock skew); as a literal the bound prunes partitions in delta_scan, which a join against the sessions would
    not. -#}
{% macro first_session_day(changed_sessions_sql, window_start) -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select cast({{ dbt.dateadd('day', -1, 'coalesce(min(started_at), ' ~ (window_start or 'null') ~ ')') }} as date)
        from {{ ref('stg_web__sessions') }}
        where session_id in ({{ changed_sessions_sql }})
    {%- endset -%}
    {%- set day = run_query(query).columns[0].values()[0] -%}
    {{ return(none if day is none else "cast('" ~ day.isoformat() ~ "' as date)") }}
{%- endmacro %}
