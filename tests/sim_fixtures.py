"""Simulator fixtures (filled in by the simulator work; see simulator/SPEC.md)."""
