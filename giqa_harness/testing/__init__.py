"""Helpers for tests and benchmarks: tiny datasets and tiny random models built offline.

Shipped with the package so that third-party plugin authors can test against the same fixtures.
"""
