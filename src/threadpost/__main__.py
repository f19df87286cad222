"""`python -m threadpost`."""

from threadpost.cli import console

console()
