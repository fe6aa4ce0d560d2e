"""Handlers: one thin Lambda entry point per module."""
