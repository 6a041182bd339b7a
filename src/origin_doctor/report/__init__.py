"""Renderers over the same report objects: terminal (rich), JSON."""
