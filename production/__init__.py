"""Customer Success Digital FTE."""

__version__ = "0.1.0"
