"""The `tidings` command."""
