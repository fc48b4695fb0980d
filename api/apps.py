from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Public API"

    def ready(self) -> None:
        # Registers the Bearer scheme with drf-spectacular (an import side effect).
        from api import authentication  # noqa: F401
