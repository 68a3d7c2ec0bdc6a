{#- Late-arriving data in incremental facts.

    On an incremental run, keep source rows whose change timestamp lies within var('lookback_days') of the newest
    change already in the fact. The fact merges on its key, so a row that changed late (its timestamp is older
    than rows already loaded, but inside the window) replaces the stale version. Changes older than the window
    need `--full-refresh` or a wider window (`--vars '{lookback_days: 30}'`). -#}
{% macro lookback_filter(column, this_column=none) -%}
    {%- if is_incremental() -%}
        {{ column }} >= (
            select {{ dbt.dateadd('day', -1 * var('lookback_days'), 'max(' ~ (this_column or column) ~ ')') }}
            from {{ this }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
