"""The REST API: FastAPI routers, one module per resource."""
