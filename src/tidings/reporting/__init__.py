"""Measurement reports: built once, shown in the terminal, as HTML and through the API."""
