"""Long-running processes: worker, dispatcher and relay."""
