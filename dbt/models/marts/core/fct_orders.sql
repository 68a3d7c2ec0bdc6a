{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- One row per order: amounts, payment outcome, fulfilment, the customer version at order time.
-- depends_on: {{ ref('stg_shop__orders') }} {{ ref('stg_shop__order_items') }} {{ ref('stg_shop__payments') }}
-- depends_on: {{ ref('stg_shop__shipments') }} {{ ref('stg_shop__returns') }}
{% if is_incremental() %}
with changed_orders as (
    -- orders with a change to themselves or a child inside the lookback window; only these are rolled up
    {% for child in ['stg_shop__orders', 'stg_shop__order_items', 'stg_shop__payments', 'stg_shop__shipments',
                     'stg_shop__returns'] %}
    select order_id from {{ ref(child) }} where {{ lookback_filter('updated_at', 'last_changed_at') }}
    {% if not loop.last %}union{% endif %}
    {% endfor %}
),

orders as (
    {{ orders_enriched('changed_orders') }}
),
{% else %}
with orders as (
    select * from {{ ref('int_orders_enriched') }}
),
{% endif %}

customers as (
    select customer_sk, customer_id, segment, valid_from, valid_to from {{ ref('dim_customers') }}
    {%- if is_incremental() %}
    -- only the batch's customers: DuckDB would otherwise hash every customer version to join a few orders
    where customer_id in (select customer_id from orders)
    {%- endif %}
)

select
    orders.order_id,
    orders.customer_id,
    customers.customer_sk,
    customers.segment as customer_segment,
    orders.order_date,
    orders.placed_at,
    orders.status,
    orders.is_paid,
    orders.currency,
    orders.shipping_country,
    orders.campaign_id,
    orders.cart_id,
    orders.item_count,
    orders.units,
    orders.discount_total,
    case when orders.is_paid then orders.items_total else 0 end as gross_revenue,
    orders.refunded_amount,
    -- refunds of orders cancelled after payment never were revenue, so only a paid order's refunds reduce it
    {{ money('case when orders.is_paid then orders.items_total - orders.refunded_amount else 0 end') }} as net_revenue,
    orders.captured_amount,
    orders.payment_attempts,
    orders.failed_payment_attempts,
    orders.returned_items,
    orders.shipped_at,
    orders.delivered_at,
    orders.last_changed_at,
    {{ run_started() }} as loaded_at
from orders
left join customers
    on customers.customer_id = orders.customer_id
    and {{ valid_at('customers', 'orders.placed_at') }}
