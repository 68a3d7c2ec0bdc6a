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
    cast(created_at as timestamp) as created_at,
    cast(resolved_at as timestamp) as resolved_at
from source
