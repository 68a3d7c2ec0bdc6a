{{ config(
    materialized='incremental',
    unique_key='product_sk',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- Products, SCD type 2 (price, cost and category history).
{{ scd2_dimension(
    ref('snap_products'),
    'product_id',
    ['sku', 'name', 'category', 'subcategory', 'brand', 'price', 'cost', 'is_active'],
) }}
