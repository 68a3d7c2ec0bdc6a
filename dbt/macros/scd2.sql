{#- A type 2 dimension from a dbt snapshot: one row per version with a surrogate key and validity interval.

    The snapshot starts recording when the project first runs, so the first recorded version of a key is made
    valid from the row's creation: facts older than the first run still find a version (the earliest known).
    A key whose latest version is closed (hard delete, e.g. an erasure request) is flagged is_deleted. -#}
{% macro scd2_dimension(snapshot, key, columns, created_at='created_at') -%}
with versions as (
    select
        {{ key }},
        {{ columns | join(',\n        ') }},
        {{ created_at }} as created_at,
        dbt_valid_from,
        dbt_valid_to,
        row_number() over (partition by {{ key }} order by dbt_valid_from) as version_number,
        count(*) over (partition by {{ key }}) as version_count
    from {{ snapshot }}
)

select
    {{ surrogate_key([key, 'dbt_valid_from']) }} as {{ key | replace('_id', '') }}_sk,
    {{ key }},
    {{ columns | join(',\n    ') }},
    version_number,
    case
        when version_number = 1 and created_at < dbt_valid_from then created_at
        else dbt_valid_from
    end as valid_from,
    dbt_valid_to as valid_to,
    dbt_valid_to is null as is_current,
    version_number = version_count and dbt_valid_to is not null as is_deleted
from versions
{%- endmacro %}

{#- Join condition: the dimension version that was valid at `at` (valid_from inclusive, valid_to exclusive). -#}
{% macro valid_at(dimension, at) -%}
    {{ at }} >= {{ dimension }}.valid_from
    and {{ at }} < coalesce({{ dimension }}.valid_to, cast('9999-12-31 00:00:00' as timestamp))
{%- endmacro %}
