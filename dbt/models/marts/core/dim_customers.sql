-- Customers, SCD type 2 (address and segment history). Personal data (name, email, phone, street) stays in silver.
{{ scd2_dimension(ref('snap_customers'), 'customer_id', ['segment', 'city', 'postal_code', 'country']) }}
