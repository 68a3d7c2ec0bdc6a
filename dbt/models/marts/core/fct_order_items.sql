{{ config(
    materialized='incremental',
    unique_key='order_item_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- One row per order line, with the product version (price, cost, category) valid when the order was placed.
with items as (
    select
        items.*,
        orders.customer_id,
        orders.placed_at,
        orders.status as order_status,
        coalesce({{ is_paid_status('orders.status') }}, false) as is_paid,
        cast(orders.placed_at as date) as order_date,
        {{ greatest_not_null(['items.updated_at', 'orders.updated_at']) }} as last_changed_at
    from {{ ref('stg_shop__order_items') }} as items
    left join {{ ref('stg_shop__orders') }} as orders on orders.order_id = items.order_id
),

changed_items as (
    select * from items where {{ lookback_filter('last_changed_at') }}
),

products as (
    select product_sk, product_id, category, cost, valid_from, valid_to from {{ ref('dim_products') }}
)

select
    changed_items.order_item_id,
    changed_items.order_id,
    changed_items.customer_id,
    changed_items.product_id,
    products.product_sk,
    products.category,
    changed_items.order_date,
    changed_items.placed_at,
    changed_items.order_status,
    changed_items.is_paid,
    changed_items.quantity,
    changed_items.unit_price,
    changed_items.discount,
    changed_items.line_total,
    products.cost * changed_items.quantity as line_cost,
    changed_items.line_total - products.cost * changed_items.quantity as line_margin,
    changed_items.last_changed_at
from changed_items
left join products
    on products.product_id = changed_items.product_id
    and {{ valid_at('products', 'changed_items.placed_at') }}
