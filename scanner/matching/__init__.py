"""Matching a document to the patient index and deciding whether it may be filed without a clerk."""
