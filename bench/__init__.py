"""Benchmarks of flowfleet against `prefect deploy` and the raw API floor (`make bench`)."""
