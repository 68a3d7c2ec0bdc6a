{{ config(
    materialized='incremental',
    unique_key='customer_sk',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- Customers, SCD type 2 (address and segment history). Personal data (name, email, phone, street) stays in silver.
{{ scd2_dimension(ref('snap_customers'), 'customer_id', ['segment', 'city', 'postal_code', 'country']) }}
