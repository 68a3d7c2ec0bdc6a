-- Payment attempts; failed attempts are retried; refunds follow returns and cancellations.
with source as (
    select * from {{ source('shop', 'payments') }}
)

select
    payment_id,
    order_id,
    method,
    status,
    amount,
    attempt,
    failure_reason,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from source
