"""Shared test data."""
