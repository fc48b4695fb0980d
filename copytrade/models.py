"""Models arrive with their issue; the app exists so migrations and imports have a home."""
