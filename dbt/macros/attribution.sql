{#- The earliest start a campaign session can have and still be the last touch of an order that
    int_orders_attributed attributes again on an incremental run: a SQL timestamp literal, or none (not known at
    compile time, or nothing changed). Those orders are the ones changed inside the lookback window (placed no
    earlier than the earliest of them) and the ones placed within the attribution window after a campaign session
    changed inside the lookback window (placed no earlier than that session started); a touch starts at most
    `window_days` before its order. Both minimums come from the windowed scans alone, without the join, so the bound
    costs one cheap query; as a literal it lets delta_scan skip the older session files, which a join or a scalar
    subquery would not. -#}
{% macro earliest_touch_start(window_days) -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select {{ dbt.dateadd('day', -1 * window_days, 'min(earliest)') }} from (
            select min(placed_at) as earliest from {{ ref('stg_shop__orders') }}
            where {{ lookback_filter('updated_at', 'last_changed_at') }}
            union all
            select min(started_at) as earliest from {{ ref('stg_web__sessions') }}
            where campaign_id is not null and {{ lookback_filter('updated_at', 'last_changed_at') }}
        ) as changes
    {%- endset -%}
    {%- set value = run_query(query).columns[0].values()[0] -%}
    {{ return(none if value is none else timestamp_literal(value)) }}
{%- endmacro %}
