"""Signal fixtures live in tests/conftest.py (shared with tests/disasters and tests/ui)."""
