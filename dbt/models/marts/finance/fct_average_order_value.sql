-- Average order value per month and customer segment (the segment the customer had when ordering).
select
    cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start,
    coalesce(customer_segment, 'unknown') as customer_segment,
    count(*) as paid_orders,
    sum(gross_revenue) as gross_revenue,
    sum(units) as units,
    {{ ratio('sum(gross_revenue)', 'count(*)') }} as average_order_value,
    {{ ratio('sum(units)', 'count(*)') }} as units_per_order
from {{ ref('fct_orders') }}
where is_paid
group by 1, 2
