"""Identifying a document from its text: labels, names, numbers, dates, type. Pure functions."""
