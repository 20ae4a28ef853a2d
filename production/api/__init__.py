"""HTTP entrypoint: FastAPI app factory and thin route handlers."""
