-- Review ratings per product: count, average, distribution and share of positive reviews. Reviews are rolled up per
-- product before the join: joining a million reviews to the products first cost more than the roll-up.
with reviews as (
    select
        product_id,
        count(rating) as reviews,
        avg(cast(rating as double)) as average_rating,
        sum(case when rating = 1 then 1 else 0 end) as rating_1,
        sum(case when rating = 2 then 1 else 0 end) as rating_2,
        sum(case when rating = 3 then 1 else 0 end) as rating_3,
        sum(case when rating = 4 then 1 else 0 end) as rating_4,
        sum(case when rating = 5 then 1 else 0 end) as rating_5,
        {{ ratio('sum(case when rating >= 4 then 1 else 0 end)', 'count(rating)') }} as positive_share,
        max(created_at) as last_review_at
    from {{ ref('stg_files__reviews') }}
    group by product_id
)

select
    products.product_id,
    products.name as product_name,
    products.category,
    coalesce(reviews.reviews, 0) as reviews,
    reviews.average_rating,
    coalesce(reviews.rating_1, 0) as rating_1,
    coalesce(reviews.rating_2, 0) as rating_2,
    coalesce(reviews.rating_3, 0) as rating_3,
    coalesce(reviews.rating_4, 0) as rating_4,
    coalesce(reviews.rating_5, 0) as rating_5,
    reviews.positive_share,
    reviews.last_review_at
from {{ ref('dim_products') }} as products
left join reviews on reviews.product_id = products.product_id
where products.is_current
