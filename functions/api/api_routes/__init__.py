"""The HTTP API's routers, one per resource, and what they share (errors, schemas, caller).

The package name is unique among the functions on purpose: each function's code directory is
the root of its Lambda package, so `api_routes` is a top-level package there.
"""
