"""Helpers the test packages share: servers and ports, page parsing, and data factories."""
