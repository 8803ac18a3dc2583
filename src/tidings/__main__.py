"""`python -m tidings` runs the CLI."""

from tidings.cli.main import main

main()
