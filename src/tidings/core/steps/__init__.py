"""One handler module per kind of step."""
