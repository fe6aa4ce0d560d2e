"""Domain logic: plain functions the handlers call; no clients built here."""
