{#- Rows for which a boolean SQL expression is not true (e.g. "net_revenue = gross_revenue - refunded_amount"). -#}
{% test expression_is_true(model, expression, where_clause=none, column_name=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where_clause %}
  and ({{ where_clause }})
{%- endif %}
{% endtest %}
