"""The dev stack: real Temporal, PostgreSQL and Redis started from PyPI packages, supervised.

May import: everything
"""
