-- Every source row reaches its fact or dimension: one row per order (and per order attribution), order item,
-- payment, stock movement, session, and per current customer and product.
with counts as (
    select 'fct_orders' as mart,
        (select count(*) from {{ source('shop', 'orders') }}) as silver_rows,
        (select count(*) from {{ ref('fct_orders') }}) as mart_rows
    union all
    select 'fct_order_items',
        (select count(*) from {{ source('shop', 'order_items') }}),
        (select count(*) from {{ ref('fct_order_items') }})
    union all
    select 'fct_payments',
        (select count(*) from {{ source('shop', 'payments') }}),
        (select count(*) from {{ ref('fct_payments') }})
    union all
    select 'fct_inventory_movements',
        (select count(*) from {{ source('shop', 'inventory_movements') }}),
        (select count(*) from {{ ref('fct_inventory_movements') }})
    union all
    select 'int_orders_attributed',
        (select count(*) from {{ source('shop', 'orders') }}),
        (select count(*) from {{ ref('int_orders_attributed') }})
    union all
    select 'fct_sessions',
        (select count(*) from {{ source('web', 'web_sessions') }}),
        (select count(*) from {{ ref('fct_sessions') }})
    union all
    select 'dim_customers (current)',
        (select count(*) from {{ source('shop', 'customers') }}),
        (select count(*) from {{ ref('dim_customers') }} where is_current)
    union all
    select 'dim_customer_lifetime_value',
        (select count(*) from {{ source('shop', 'customers') }}),
        (select count(*) from {{ ref('dim_customer_lifetime_value') }})
    union all
    select 'dim_products (current)',
        (select count(*) from {{ source('shop', 'products') }}),
        (select count(*) from {{ ref('dim_products') }} where is_current)
)

select * from counts where silver_rows <> mart_rows
