-- Order processing: each order with its items, payments, shipments and returns rolled up (macros/orders.sql).
{{ orders_enriched() }}
