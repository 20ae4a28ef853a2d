"""PostgreSQL adapter: pool, migrations and tenant-scoped queries."""
