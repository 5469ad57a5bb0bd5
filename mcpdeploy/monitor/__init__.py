"""`mcpdeploy status` and `mcpdeploy logs`: reads (Cloudflare GraphQL analytics and queue API, Xano table content)
-> one health model -> a verdict -> a dashboard or a JSON document."""
