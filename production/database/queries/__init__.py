"""Tenant-scoped, parameterized SQL. Every function takes a connection and a tenant id."""
