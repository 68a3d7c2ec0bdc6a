-- The incremental lifetime values add up to the facts: per current customer, the paid orders and net revenue in
-- dim_customer_lifetime_value equal those summed from fct_orders (a customer missed by an incremental run, or an
-- erased one left behind, shows up here).
with lifetime as (
    select customer_id, paid_orders, lifetime_value
    from {{ ref('dim_customer_lifetime_value') }}
),

from_facts as (
    select
        customers.customer_id,
        count(orders.order_id) as paid_orders,
        coalesce(sum(orders.net_revenue), 0) as lifetime_value
    from {{ ref('dim_customers') }} as customers
    left join {{ ref('fct_orders') }} as orders
        on orders.customer_id = customers.customer_id and orders.is_paid
    where customers.is_current
    group by customers.customer_id
)

select
    coalesce(lifetime.customer_id, from_facts.customer_id) as customer_id,
    lifetime.paid_orders,
    from_facts.paid_orders as fact_paid_orders,
    lifetime.lifetime_value,
    from_facts.lifetime_value as fact_lifetime_value
from lifetime
full outer join from_facts on from_facts.customer_id = lifetime.customer_id
where lifetime.customer_id is null
    or from_facts.customer_id is null
    or lifetime.paid_orders <> from_facts.paid_orders
    or lifetime.lifetime_value <> from_facts.lifetime_value
