-- Review ratings per product: count, average, distribution and share of positive reviews.
with reviews as (
    select product_id, rating, created_at from {{ ref('stg_files__reviews') }}
)

select
    products.product_id,
    products.name as product_name,
    products.category,
    count(reviews.rating) as reviews,
    avg(cast(reviews.rating as double)) as average_rating,
    sum(case when reviews.rating = 1 then 1 else 0 end) as rating_1,
    sum(case when reviews.rating = 2 then 1 else 0 end) as rating_2,
    sum(case when reviews.rating = 3 then 1 else 0 end) as rating_3,
    sum(case when reviews.rating = 4 then 1 else 0 end) as rating_4,
    sum(case when reviews.rating = 5 then 1 else 0 end) as rating_5,
    {{ ratio('sum(case when reviews.rating >= 4 then 1 else 0 end)', 'count(reviews.rating)') }} as positive_share,
    max(reviews.created_at) as last_review_at
from {{ ref('dim_products') }} as products
left join reviews on reviews.product_id = products.product_id
where products.is_current
group by products.product_id, products.name, products.category
