"""A simulated exchange speaking Tradovate's REST + WebSocket protocol (see simulator/SPEC.md)."""
