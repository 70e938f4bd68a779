"""The HTTP server: FastAPI app factory, routes, the error map and the access log."""
