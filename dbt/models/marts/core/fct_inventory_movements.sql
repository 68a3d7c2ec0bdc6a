{{ config(
    materialized='incremental',
    unique_key='movement_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- One row per stock movement, with the product version valid at the time.
with movements as (
    select * from {{ ref('stg_shop__inventory_movements') }}
    where {{ lookback_filter('updated_at') }}
),

products as (
    select product_sk, product_id, cost, valid_from, valid_to from {{ ref('dim_products') }}
)

select
    movements.movement_id,
    movements.product_id,
    products.product_sk,
    movements.warehouse,
    movements.quantity,
    movements.quantity > 0 as is_inbound,
    movements.reason,
    movements.order_id,
    products.cost * movements.quantity as stock_value_change,
    cast(movements.created_at as date) as movement_date,
    movements.created_at,
    movements.updated_at
from movements
left join products
    on products.product_id = movements.product_id
    and {{ valid_at('products', 'movements.created_at') }}
