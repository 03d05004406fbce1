"""The DynamoDB adapters: one table, read through repositories, written by one unit of work."""
