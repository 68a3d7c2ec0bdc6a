{#- A type 2 dimension from a dbt snapshot: one row per version with a surrogate key and validity interval.

    The snapshot starts recording when the project first runs, so the first recorded version of a key is made
    valid from the row's creation: facts older than the first run still find a version (the earliest known).
    A key whose latest version is closed (hard delete, e.g. an erasure request) is flagged is_deleted.

    Incremental (merge on the surrogate key): only keys whose versions in the snapshot differ from the dimension's
    are recomputed, all their versions at once. Every snapshot change adds a version (new key, changed row,
    reinsertion) or closes one (change, hard delete), so comparing each key's number of versions and of closed
    versions finds them without a time window: a change recorded late is carried over on the next run all the
    same. Recomputed rows get loaded_at (macro run_started) for the models downstream. -#}
{% macro scd2_dimension(snapshot, key, columns, created_at='created_at') -%}
with
{%- if is_incremental() %}
changed_keys as (
    select snapshot_keys.{{ key }}
    from (
        select {{ key }}, count(*) as versions, count(dbt_valid_to) as closed_versions
        from {{ snapshot }}
        group by {{ key }}
    ) as snapshot_keys
    left join (
        select {{ key }}, count(*) as versions, count(valid_to) as closed_versions
        from {{ this }}
        group by {{ key }}
    ) as dimension_keys
        on dimension_keys.{{ key }} = snapshot_keys.{{ key }}
    where dimension_keys.{{ key }} is null
        or dimension_keys.versions <> snapshot_keys.versions
        or dimension_keys.closed_versions <> snapshot_keys.closed_versions
),
{%- endif %}
versions as (
    select
        {{ key }},
        {{ columns | join(',\n        ') }},
        {{ created_at }} as created_at,
        dbt_valid_from,
        dbt_valid_to,
        row_number() over (partition by {{ key }} order by dbt_valid_from) as version_number,
        count(*) over (partition by {{ key }}) as version_count
    from {{ snapshot }}
    {%- if is_incremental() %}
    where {{ key }} in (select {{ key }} from changed_keys)
    {%- endif %}
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
    version_number = version_count and dbt_valid_to is not null as is_deleted,
    {{ run_started() }} as loaded_at
from versions
{%- endmacro %}


{#- Join condition: the dimension version that was valid at `at` (valid_from inclusive, valid_to exclusive). -#}
{% macro valid_at(dimension, at) -%}
    {{ at }} >= {{ dimension }}.valid_from
    and {{ at }} < coalesce({{ dimension }}.valid_to, cast('9999-12-31 00:00:00' as timestamp))
{%- endmacro %}
