-- Payment failure rates per day and method.
select
    payment_date,
    method,
    count(*) as attempts,
    sum(case when is_failed then 1 else 0 end) as failed_attempts,
    sum(case when status in ('captured', 'refunded') then 1 else 0 end) as captured_attempts,
    {{ ratio('sum(case when is_failed then 1 else 0 end)', 'count(*)') }} as failure_rate
from {{ ref('fct_payments') }}
group by payment_date, method
