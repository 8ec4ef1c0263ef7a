"""Version of the Python binding (kept apart so that packaging can read it
without loading the C library)."""

__version__ = "0.1.0"
