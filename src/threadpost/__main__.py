"""`python -m threadpost`."""

from threadpost.cli import main

main()
