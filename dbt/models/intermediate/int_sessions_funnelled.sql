-- Sessions to carts to orders: how far each web session got in the funnel (macros/sessions.sql).
{{ sessions_funnelled() }}
