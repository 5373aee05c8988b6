"""Scholia's core: the domain model, the task lifecycle, provenance, quality rules and plugins.

Nothing in this package knows about HTTP or HTML; the server is a thin layer over it.
"""

__version__ = "0.1.0"
