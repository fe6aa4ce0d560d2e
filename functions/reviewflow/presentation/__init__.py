"""Presentation: the approval pages and the reviewer email. They render models; they decide nothing."""
