{#- The staging table of a snapshot run on DuckDB: dbt's own (default__snapshot_staging_table) joins the source with
    the current snapshot rows three times, for insertions, updates and deletes, and hashes dbt_scd_id for every
    source row before it knows which are new versions (formatting each timestamptz as text for its md5 was most of
    the time). Here the two are joined once (a full outer join, each side kept as a row struct), each change type
    reads that join, and only new versions are hashed: the same rows (checked against dbt's table at scale 4),
    0.82 s -> 0.14 s for snap_customers' 1.4M customers. Configurations this does not cover (hard_deletes
    'new_record', dbt_valid_to_current) use dbt's macro. -#}
{% macro duckdb__snapshot_staging_table(strategy, source_sql, target_relation) -%}
    {%- if strategy.hard_deletes == 'new_record' or config.get('dbt_valid_to_current') -%}
        {{ return(dbt.default__snapshot_staging_table(strategy, source_sql, target_relation)) }}
    {%- endif -%}
    {%- set columns = config.get('snapshot_table_column_names') or get_snapshot_table_column_names() -%}
    {#- Each change type reads the source row's columns as `source_data` and the current version as the struct
        `snapshotted_data`: the names dbt's strategies (row_changed, scd_id, updated_at) refer to. The side an
        outer join did not match is a struct of nulls, not null: the markers say which sides matched. -#}
    with snapshot_query as (
        {{ source_sql }}
    ),

    snapshotted_data as (
        select *, {{ unique_key_fields(strategy.unique_key) }}, true as dbt_in_snapshot
        from {{ target_relation }}
        where {{ columns.dbt_valid_to }} is null
    ),

    joined as materialized (
        select source_data, snapshotted_data
        from (
            select *, {{ unique_key_fields(strategy.unique_key) }}, true as dbt_in_source from snapshot_query
        ) as source_data
        full outer join snapshotted_data
            on {{ unique_key_join_on(strategy.unique_key, "snapshotted_data", "source_data") }}
    ),

    insertions as (
        select
            'insert' as dbt_change_type,
            source_data.* exclude (snapshotted_data, dbt_in_source),
            {{ strategy.updated_at }} as {{ columns.dbt_updated_at }},
            {{ strategy.updated_at }} as {{ columns.dbt_valid_from }},
            {{ get_dbt_valid_to_current(strategy, columns) }},
            {{ strategy.scd_id }} as {{ columns.dbt_scd_id }}
        from (select source_data.*, snapshotted_data from joined where source_data.dbt_in_source) as source_data
        where snapshotted_data.dbt_in_snapshot is null or ({{ strategy.row_changed }})
    ),

    updates as (
        select
            'update' as dbt_change_type,
            source_data.* exclude (snapshotted_data, dbt_in_source),
            {{ strategy.updated_at }} as {{ columns.dbt_updated_at }},
            {{ strategy.updated_at }} as {{ columns.dbt_valid_from }},
            {{ strategy.updated_at }} as {{ columns.dbt_valid_to }},
            snapshotted_data.{{ columns.dbt_scd_id }}
        from (
            select source_data.*, snapshotted_data from joined
            where source_data.dbt_in_source and snapshotted_data.dbt_in_snapshot
        ) as source_data
        where {{ strategy.row_changed }}
    )

    {%- if strategy.hard_deletes == 'invalidate' %}
    ,
    deletes as (
        select
            'delete' as dbt_change_type,
            source_data.* exclude (snapshotted_data, dbt_in_source),
            {{ snapshot_get_time() }} as {{ columns.dbt_valid_from }},
            {{ snapshot_get_time() }} as {{ columns.dbt_updated_at }},
            {{ snapshot_get_time() }} as {{ columns.dbt_valid_to }},
            snapshotted_data.{{ columns.dbt_scd_id }}
        from (
            select source_data.*, snapshotted_data from joined where source_data.dbt_in_source is null
        ) as source_data
    )
    {%- endif %}

    select * from insertions
    union all
    select * from updates
    {%- if strategy.hard_deletes == 'invalidate' %}
    union all
    select * from deletes
    {%- endif %}
{%- endmacro %}
