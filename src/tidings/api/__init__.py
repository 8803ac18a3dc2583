"""The HTTP API: Segment-compatible ingestion under /v1 (the admin API under /api follows)."""
