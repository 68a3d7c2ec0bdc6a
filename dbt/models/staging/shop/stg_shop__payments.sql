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
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('updated_at') }} as updated_at
from source
