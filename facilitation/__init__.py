"""Éclair: run participatory workshops from start to finish."""
