{{ config(
    materialized='incremental',
    unique_key='order_item_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- One row per order line, with the product version (price, cost, category) valid when the order was placed.
-- Incremental runs roll up only the lines of orders whose row or lines changed inside the lookback window, reading
-- both sides through the window's literal bound (pushed into the silver scan) instead of joining everything first.
{%- set only_changed = 'where order_id in (select order_id from changed_orders)' if is_incremental() else '' %}
with
{%- if is_incremental() %}
changed_orders as (
    select order_id from {{ ref('stg_shop__orders') }} where {{ lookback_filter('updated_at', 'last_changed_at') }}
    union
    select order_id from {{ ref('stg_shop__order_items') }} where {{ lookback_filter('updated_at', 'last_changed_at') }}
),
{%- endif %}

items as (
    select
        items.*,
        orders.customer_id,
        orders.placed_at,
        orders.status as order_status,
        coalesce({{ is_paid_status('orders.status') }}, false) as is_paid,
        cast(orders.placed_at as date) as order_date,
        {{ greatest_not_null(['items.updated_at', 'orders.updated_at']) }} as last_changed_at
    from (select * from {{ ref('stg_shop__order_items') }} {{ only_changed }}) as items
    left join (select * from {{ ref('stg_shop__orders') }} {{ only_changed }}) as orders
        on orders.order_id = items.order_id
),

products as (
    select product_sk, product_id, category, cost, valid_from, valid_to from {{ ref('dim_products') }}
)

select
    items.order_item_id,
    items.order_id,
    items.customer_id,
    items.product_id,
    products.product_sk,
    products.category,
    items.order_date,
    items.placed_at,
    items.order_status,
    items.is_paid,
    items.quantity,
    items.unit_price,
    items.discount,
    items.line_total,
    products.cost * items.quantity as line_cost,
    items.line_total - products.cost * items.quantity as line_margin,
    items.last_changed_at
from items
left join products
    on products.product_id = items.product_id
    and {{ valid_at('products', 'items.placed_at') }}
