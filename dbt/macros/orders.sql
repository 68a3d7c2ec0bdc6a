{#- Order processing: each order with its items, payments, shipments and returns rolled up, and the time of the
    latest change to any of them. `changed_orders`, when given, names a relation of order_ids: only those orders
    are rolled up (incremental runs), so the aggregation work follows the amount of change. -#}
{% macro orders_enriched(changed_orders=none) -%}
{%- set filter = ("where order_id in (select order_id from " ~ changed_orders ~ ")") if changed_orders else "" -%}
with orders as (
    select * from {{ ref('stg_shop__orders') }}
    {{ filter }}
),

items as (
    select
        order_id,
        count(*) as item_count,
        {{ count_of('sum(quantity)') }} as units,
        {{ money('sum(line_total)') }} as items_total,
        {{ money('sum(discount)') }} as discount_total,
        max(updated_at) as last_item_change_at
    from {{ ref('stg_shop__order_items') }}
    {{ filter }}
    group by order_id
),

payments as (
    select
        order_id,
        count(*) as payment_attempts,
        {{ count_of("sum(case when status = 'failed' then 1 else 0 end)") }} as failed_payment_attempts,
        -- A refund turns the captured payment's status to refunded: it was captured all the same.
        {{ money("sum(case when status in ('captured', 'refunded') then amount else 0 end)") }} as captured_amount,
        {{ money("sum(case when status = 'refunded' then amount else 0 end)") }} as refunded_amount,
        max(updated_at) as last_payment_change_at
    from {{ ref('stg_shop__payments') }}
    {{ filter }}
    group by order_id
),

shipments as (
    select
        order_id,
        min(shipped_at) as shipped_at,
        max(delivered_at) as delivered_at,
        max(updated_at) as last_shipment_change_at
    from {{ ref('stg_shop__shipments') }}
    {{ filter }}
    group by order_id
),

returns as (
    select
        order_id,
        count(*) as returned_items,
        max(updated_at) as last_return_change_at
    from {{ ref('stg_shop__returns') }}
    {{ filter }}
    group by order_id
)

select
    orders.order_id,
    orders.customer_id,
    orders.status,
    {{ is_paid_status('orders.status') }} as is_paid,
    orders.order_total,
    orders.currency,
    orders.shipping_country,
    orders.campaign_id,
    orders.cart_id,
    orders.placed_at,
    cast(orders.placed_at as date) as order_date,
    coalesce(items.item_count, 0) as item_count,
    coalesce(items.units, 0) as units,
    coalesce(items.items_total, 0) as items_total,
    coalesce(items.discount_total, 0) as discount_total,
    coalesce(payments.payment_attempts, 0) as payment_attempts,
    coalesce(payments.failed_payment_attempts, 0) as failed_payment_attempts,
    coalesce(payments.captured_amount, 0) as captured_amount,
    coalesce(payments.refunded_amount, 0) as refunded_amount,
    coalesce(returns.returned_items, 0) as returned_items,
    shipments.shipped_at,
    shipments.delivered_at,
    orders.updated_at,
    {{ greatest_not_null([
        'orders.updated_at',
        'items.last_item_change_at',
        'payments.last_payment_change_at',
        'shipments.last_shipment_change_at',
        'returns.last_return_change_at',
    ]) }} as last_changed_at
from orders
left join items on orders.order_id = items.order_id
left join payments on orders.order_id = payments.order_id
left join shipments on orders.order_id = shipments.order_id
left join returns on orders.order_id = returns.order_id
{%- endmacro %}

{#- A paid order's line totals count as revenue. -#}
{% macro is_paid_status(status) -%}
    {{ status }} in ('paid', 'shipped', 'delivered', 'returned')
{%- endmacro %}
