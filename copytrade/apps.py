from django.apps import AppConfig


class CopytradeConfig(AppConfig):
    name = "copytrade"
    verbose_name = "Copy trading"
