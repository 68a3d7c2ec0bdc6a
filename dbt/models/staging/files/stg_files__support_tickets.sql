-- Customer support tickets, optionally about an order.
with source as (
    select * from {{ source('files', 'support_tickets') }}
)

select
    ticket_id,
    customer_id,
    order_id,
    channel,
    category,
    priority,
    status,
    subject,
    {{ source_timestamp('created_at') }} as created_at,
    {{ source_timestamp('resolved_at') }} as resolved_at
from source
