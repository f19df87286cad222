"""Mastodon: its rules (light) and its publisher (imports Mastodon.py lazily)."""
