{#- Fails when the newest value of `field` is older than `interval` `datepart`s before the reference time.

    The reference defaults to now; simulated data lives in simulated time, so models pass a reference such as
    "(select max(updated_at) from <source>)" to test that the mart keeps up with its source. -#}
{% test recency(model, datepart, interval, field=none, column_name=none, reference=none) %}
{%- set field = field or column_name %}
select max_value, reference_value
from (
    select
        max({{ field }}) as max_value,
        {{ reference if reference else dbt.current_timestamp() }} as reference_value
    from {{ model }}
) as newest
where max_value is null
   or max_value < {{ dbt.dateadd(datepart, -1 * interval, 'reference_value') }}
{% endtest %}
