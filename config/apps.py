from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project package doubles as an app: system checks, health, ops commands."""

    name = "config"
    verbose_name = "Bracketeer platform"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the system checks)
