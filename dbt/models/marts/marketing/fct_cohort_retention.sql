-- Cohort retention: customers grouped by the month of their first paid order; share still ordering N months later.
-- Distinct customer months first: counting rows per cohort month then needs no count(distinct).
with paid_orders as (
    select distinct customer_id, cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month
    from {{ ref('fct_orders') }}
    where is_paid
),

first_orders as (
    select customer_id, min(order_month) as cohort_month
    from paid_orders
    group by customer_id
),

activity as (
    select
        first_orders.cohort_month,
        {{ dbt.datediff('first_orders.cohort_month', 'paid_orders.order_month', 'month') }} as months_since_first_order,
        count(*) as active_customers
    from paid_orders
    inner join first_orders on first_orders.customer_id = paid_orders.customer_id
    group by 1, 2
),

cohort_sizes as (
    select cohort_month, count(*) as cohort_size from first_orders group by cohort_month
)

select
    activity.cohort_month,
    activity.months_since_first_order,
    cohort_sizes.cohort_size,
    activity.active_customers,
    {{ ratio('activity.active_customers', 'cohort_sizes.cohort_size') }} as retention_rate
from activity
inner join cohort_sizes on cohort_sizes.cohort_month = activity.cohort_month
