{#- Late-arriving data in incremental facts.

    On an incremental run, keep source rows whose change timestamp lies within var('lookback_days') of the newest
    change already in the fact. The fact merges on its key, so a row that changed late (its timestamp is older
    than rows already loaded, but inside the window) replaces the stale version. Changes older than the window
    need `--full-refresh` or a wider window (`--vars '{lookback_days: 30}'`).

    The window start is read from the fact once, when the model runs, and written into the SQL as a literal:
    a filter against a constant is pushed down into delta_scan (file skipping on the Delta statistics, partition
    pruning), a filter against a scalar subquery is not and reads every file. -#}
{% macro lookback_filter(column, this_column=none) -%}
    {%- if is_incremental() -%}
        {%- set since = lookback_start(this_column or column) -%}
        {%- if since is none -%}
            true
        {%- else -%}
            {{ column }} >= {{ since }}
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The same window on a date column (e.g. a partition column such as event_date), for partition pruning. -#}
{% macro lookback_date_filter(date_column, this_column) -%}
    {%- if is_incremental() -%}
        {%- set since = lookback_start(this_column) -%}
        {%- if since is none -%}
            true
        {%- else -%}
            {{ date_column }} >= cast({{ since }} as date)
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- SQL for the start of the lookback window: newest `this_column` in the fact minus var('lookback_days'), as a
    timestamp literal; none when the fact is empty (load everything). var('lookback_since'), when set, is the start
    instead. Read once per model and column (a model filters several sources by the same window). In a dbt unit test
    `this` is a fixture, not a table that can be queried, so the window stays a subquery there. -#}
{% macro lookback_start(this_column) -%}
    {%- if var('lookback_since', none) -%}
        {{ return(timestamp_literal(modules.datetime.datetime.fromisoformat(var('lookback_since')))) }}
    {%- endif -%}
    {%- set newest = 'max(' ~ this_column ~ ')' -%}
    {%- set window_start = dbt.dateadd('day', -1 * var('lookback_days'), newest) -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return('(select ' ~ window_start ~ ' from ' ~ this ~ ')') }}
    {%- endif -%}
    {#- `model` is this node's own dict for the whole compilation: it holds the windows already read -#}
    {%- set windows = model.setdefault('lakehouse_lookback_starts', {}) -%}
    {%- if this_column not in windows -%}
        {%- do windows.update({this_column: run_query('select ' ~ window_start ~ ' from ' ~ this).columns[0].values()[0]}) -%}
    {%- endif -%}
    {%- set value = windows[this_column] -%}
    {{ return(none if value is none else timestamp_literal(value)) }}
{%- endmacro %}

{#- A Python datetime as a SQL timestamp literal of the type staging gives source timestamps (source_timestamp). -#}
{% macro timestamp_literal(value) -%}
    {{ return(adapter.dispatch('timestamp_literal', 'lakehouse')(value)) }}
{%- endmacro %}

{% macro default__timestamp_literal(value) -%}
    timestamp '{{ value.strftime("%Y-%m-%d %H:%M:%S.%f") }}'
{%- endmacro %}

{% macro duckdb__timestamp_literal(value) -%}
    {#- timestamptz, as staging reads it from Delta: comparing with a plain timestamp would cast the column -#}
    cast('{{ value.isoformat() }}' as timestamptz)
{%- endmacro %}

{#- Cascading incrementals: models fed by other incremental models stamp each row they (re)compute with the time
    the dbt run started (`loaded_at`, wall clock), and pick up the upstream rows loaded after their own newest
    stamp. Unlike a source-time window, this carries every change an upstream model merged, however late its source
    timestamp, and catches up after a run the model missed. -#}
{% macro run_started() -%}
    {{ timestamp_literal(run_started_at) }}
{%- endmacro %}

{#- Filter for upstream rows (column `column`, a loaded_at) loaded after this model's newest loaded_at: true on a
    full build, when the model is empty, or when its table predates the loaded_at column (built by an earlier
    version of the project: everything is recomputed once, and on_schema_change adds the column). -#}
{% macro loaded_after_this(column) -%}
    {%- if not is_incremental() -%}
        true
    {%- elif not execute or model.resource_type == 'unit_test' -%}
        {{ column }} > (select max(loaded_at) from {{ this }})
    {%- elif 'loaded_at' not in adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') -%}
        true
    {%- else -%}
        {%- set value = run_query('select max(loaded_at) from ' ~ this).columns[0].values()[0] -%}
        {{ 'true' if value is none else column ~ ' > ' ~ timestamp_literal(value) }}
    {%- endif -%}
{%- endmacro %}

{#- Period marts (a row per day or month and some attributes) fed by facts that stamp loaded_at: an incremental run
    recomputes every period from the earliest one that any of `sources` ([relation, date expression] pairs) loaded
    a row for since this mart's last run, and merges the groups on the mart's grain. Fact rows are never deleted
    and keep their period and attributes, so a group does not disappear (one that did would keep its last figures
    until --full-refresh). Returns a filter on `column`: true on a full build, a date literal bound (truncated to
    `period`, 'day' or 'month') so the fact scans skip row groups, false when nothing was loaded. -#}
{% macro since_first_reloaded_period(column, sources, period='day') -%}
    {%- if not is_incremental() or not execute or model.resource_type == 'unit_test' -%}
        {{ return('true') }}
    {%- endif -%}
    {#- read once per model and sources, however many scans the model filters (as lookback_start) -#}
    {%- set firsts = model.setdefault('lakehouse_first_reloaded_days', {}) -%}
    {%- set cache_key = sources | string -%}
    {%- if cache_key not in firsts -%}
        {%- set loaded_after = loaded_after_this('loaded_at') -%}
        {%- set scans = [] -%}
        {%- for relation, expression in sources -%}
            {%- do scans.append('select min(' ~ expression ~ ') as first_day from ' ~ relation ~ ' where ' ~ loaded_after) -%}
        {%- endfor -%}
        {%- do firsts.update({cache_key: run_query('select min(first_day) from (' ~ scans | join(' union all ') ~ ')').columns[0].values()[0]}) -%}
    {%- endif -%}
    {%- set first = firsts[cache_key] -%}
    {%- if first is none -%}
        {{ return('false') }}
    {%- endif -%}
    {%- if period == 'month' -%}
        {%- set first = first.replace(day=1) -%}
    {%- endif -%}
    {{ return(column ~ " >= cast('" ~ first.isoformat() ~ "' as date)") }}
{%- endmacro %}

{#- An extra merge condition for incremental_predicates: target and source rows also agree on `column`, one that
    never changes for a key (a session's start date, an order's date). The key alone already decides the match; with
    this equality DuckDB also skips the target rows outside the batch's range of `column` before probing keys (it
    pushes the range of the join's build side into the target scan): merging 630k sessions into 21M took 0.6 s
    instead of 0.8 s at scale 4. Each adapter's merge names the two sides differently. -#}
{% macro merge_also_on(column) -%}
    {{ return(adapter.dispatch('merge_also_on', 'lakehouse')(column)) }}
{%- endmacro %}

{% macro default__merge_also_on(column) -%}
    {{ return('DBT_INTERNAL_DEST.' ~ column ~ ' = DBT_INTERNAL_SOURCE.' ~ column) }}
{%- endmacro %}

{% macro athena__merge_also_on(column) -%}
    {{ return('target.' ~ column ~ ' = src.' ~ column) }}
{%- endmacro %}
