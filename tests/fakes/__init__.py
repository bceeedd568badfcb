"""Test doubles that speak real protocols (see ``telegram.py`` for the fake Bot API server)."""
