"""Bluesky: its rules (light) and its publisher (imports atproto lazily)."""
