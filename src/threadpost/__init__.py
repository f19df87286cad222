"""threadpost: write threads as plain-text drafts, publish them to Mastodon and Bluesky."""

__version__ = "0.1.0"
