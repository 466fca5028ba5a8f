"""`python -m flowfleet.cli`."""

from flowfleet.cli.main import main

main()
