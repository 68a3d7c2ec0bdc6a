{{ config(
    materialized='incremental',
    unique_key='payment_id',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- One row per payment attempt or refund.
select
    payments.payment_id,
    payments.order_id,
    orders.customer_id,
    payments.method,
    payments.status,
    payments.status = 'failed' as is_failed,
    payments.amount,
    payments.attempt,
    payments.failure_reason,
    cast(payments.created_at as date) as payment_date,
    case when payments.status = 'refunded' then payments.updated_at end as refunded_at,
    case when payments.status = 'refunded' then cast(payments.updated_at as date) end as refund_date,
    payments.created_at,
    payments.updated_at,
    {{ run_started() }} as loaded_at
from {{ ref('stg_shop__payments') }} as payments
left join {{ ref('stg_shop__orders') }} as orders on orders.order_id = payments.order_id
where {{ lookback_filter('payments.updated_at', 'updated_at') }}
