"""Test support: real clients for the Master."""
