"""Importers: recognise an export file and plan how its rows become facts (``lib.ingest`` writes them)."""
