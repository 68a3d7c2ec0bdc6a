-- The customer attributes the SCD2 history tracks (snap_customers -> dim_customers), without personal data: name,
-- email, phone and street stay in silver, so an erasure leaves no copy of them in the snapshot's history. Fewer
-- columns also make the snapshot's comparison of every customer with its current version cheaper.
select customer_id, segment, city, postal_code, country, created_at, updated_at
from {{ ref('stg_shop__customers') }}
