"""The ways into the domain: the HTTP API's routers (`http`), called by functions/api/app.py."""
