"""Item pipelines: cleaning (raw page -> report) and storage (report -> SQLite)."""
