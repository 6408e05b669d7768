"""A stateful emulator of the PingOne Platform user-password API: the suite's embedded default.

The package imports nothing from ``harness`` or ``suites``; it reads the request schemas and the
operation table in ``schemas/``.
"""
