"""The central server: ingest, fleet, reports."""
