-- Payment reconciliation: what each order should have collected against what its payments captured and refunded.
with orders as (
    select * from {{ ref('int_orders_enriched') }}
)

select
    order_id,
    customer_id,
    order_date,
    status as order_status,
    is_paid,
    items_total as expected_amount,
    captured_amount,
    refunded_amount,
    captured_amount - case when is_paid then items_total else 0 end as capture_difference,
    case
        when is_paid and captured_amount = items_total then 'balanced'
        when is_paid and captured_amount = 0 then 'missing_capture'
        when is_paid and captured_amount < items_total then 'under_captured'
        when is_paid then 'over_captured'
        -- an unpaid (placed or cancelled) order may keep nothing: anything captured must have been refunded
        when captured_amount = refunded_amount then 'not_due'
        else 'refund_missing'
    end as reconciliation_status,
    payment_attempts,
    failed_payment_attempts,
    last_changed_at
from orders
