"""Helpers shared by the test suite (servers and fixtures the tests start themselves)."""
