"""Channel adapters: each turns a stored reply into a delivery on its channel."""
