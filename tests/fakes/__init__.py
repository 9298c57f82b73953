"""Loopback fakes of external services, for tests (no internet at test time)."""
