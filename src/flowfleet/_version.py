"""The package version, in a module of its own (imported by the root and the rest alike)."""

__version__ = "0.1.0"
