{{ config(
    materialized='incremental',
    unique_key=['payment_date', 'method'],
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    tags=['incremental'],
) }}

-- Payment failure rates per day and method. Incremental runs recompute the days from the first one with a payment
-- fct_payments loaded since this model's last run (macro since_first_reloaded_period).
select
    payment_date,
    method,
    count(*) as attempts,
    sum(case when is_failed then 1 else 0 end) as failed_attempts,
    sum(case when status in ('captured', 'refunded') then 1 else 0 end) as captured_attempts,
    {{ ratio('sum(case when is_failed then 1 else 0 end)', 'count(*)') }} as failure_rate,
    {{ run_started() }} as loaded_at
from {{ ref('fct_payments') }}
where {{ since_first_reloaded_period('payment_date', [[ref('fct_payments'), 'payment_date']]) }}
group by payment_date, method
