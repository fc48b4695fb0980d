"""The support desk's trading permissions, added to the "support" group (billing 0003).

Support views strategies, traders, their accounts, signals, outcomes and orders; it may
disable a trader and flatten a user's accounts (both from the admin). Nothing else: no add,
change or delete of any trading record. The two action permissions have no model of their
own (a model change for a permission would be noise), so they are rows on the Trader
content type, created here.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TRADING_ACTION_PERMISSIONS = [
    ("disable_trader", "Can disable a trader from the support admin"),
    ("flatten_account", "Can flatten a user's trading accounts from the support admin"),
]
TRADING_SUPPORT_PERMISSIONS = [
    ("trading", "view_strategy"),
    ("trading", "view_trader"),
    ("trading", "view_traderaccount"),
    ("trading", "view_signal"),
    ("trading", "view_signaloutcome"),
    ("trading", "view_order"),
    *(("trading", codename) for codename, _ in TRADING_ACTION_PERMISSIONS),
]


def add_to_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    trader_type = ContentType.objects.get(app_label="trading", model="trader")
    for codename, name in TRADING_ACTION_PERMISSIONS:
        Permission.objects.get_or_create(
            content_type=trader_type, codename=codename, defaults={"name": name}
        )
    group, _ = Group.objects.get_or_create(name="support")
    group.permissions.add(
        *[
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in TRADING_SUPPORT_PERMISSIONS
        ]
    )


def remove_from_group(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="support").first()
    wanted = Permission.objects.filter(
        content_type__app_label="trading",
        codename__in=[codename for _, codename in TRADING_SUPPORT_PERMISSIONS],
    )
    if group is not None:
        group.permissions.remove(*wanted)
    Permission.objects.filter(
        content_type__app_label="trading",
        codename__in=[codename for codename, _ in TRADING_ACTION_PERMISSIONS],
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0001_signals_and_orders"),
        ("billing", "0003_support_group"),
    ]
    operations = [migrations.RunPython(add_to_group, remove_from_group)]
