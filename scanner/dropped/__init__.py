"""Dropped files: noticing them, waiting until whole, taking them in, setting bad ones aside."""
