"""Pydantic v2 models: the only way handlers read or write events and step payloads."""
