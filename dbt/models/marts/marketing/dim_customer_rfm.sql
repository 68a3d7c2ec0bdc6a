-- RFM segmentation of customers with paid orders: recency, frequency and monetary quintiles (5 = best).
-- The per-customer figures come from dim_customer_lifetime_value (incremental: it recomputes only the customers
-- that changed), so this whole-table model ranks one row per customer instead of grouping every order again.
with as_of as (
    select max(order_date) as as_of_date from {{ ref('fct_orders') }}
),

customers as (
    select
        customer_id,
        cast(last_order_at as date) as last_order_date,
        paid_orders as frequency,
        lifetime_value as monetary
    from {{ ref('dim_customer_lifetime_value') }}
    where paid_orders > 0
),

scored as (
    select
        customers.*,
        {{ dbt.datediff('customers.last_order_date', 'as_of.as_of_date', 'day') }} as recency_days,
        ntile(5) over (order by customers.last_order_date) as recency_score,
        ntile(5) over (order by customers.frequency) as frequency_score,
        ntile(5) over (order by customers.monetary) as monetary_score
    from customers
    cross join as_of
)

select
    customer_id,
    last_order_date,
    recency_days,
    frequency,
    monetary,
    recency_score,
    frequency_score,
    monetary_score,
    case
        when recency_score >= 4 and frequency_score >= 4 then 'champions'
        when frequency_score >= 4 then 'loyal'
        when recency_score >= 4 and frequency = 1 then 'new'
        when recency_score <= 2 and frequency_score >= 3 then 'at_risk'
        when recency_score <= 2 then 'hibernating'
        else 'potential'
    end as rfm_segment
from scored
