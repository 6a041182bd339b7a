"""origin-doctor: why a CDN answers 502/504 for an origin, and how to fix it."""

from __future__ import annotations

__version__ = "0.1.0"
