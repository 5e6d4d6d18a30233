"""The package version: one line, no imports (pyproject.toml reads it)."""

__version__ = "0.1.0"
