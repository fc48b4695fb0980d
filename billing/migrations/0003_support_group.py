"""The "support" group: what the support desk needs to answer "why can't I trade?", no more.

View users, connections, subaccounts and everything billing; add and change memberships
(a staff grant: the admin turns it into ``membership_grant``); resend activation, resync,
view the health panel. No delete, no user edits, no plan edits, no credentials.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_PERMISSIONS = [
    ("accounts", "view_user"),
    ("accounts", "view_brokerconnection"),
    ("accounts", "view_subaccount"),
    ("billing", "view_plan"),
    ("billing", "view_membership"),
    ("billing", "add_membership"),
    ("billing", "change_membership"),
    ("billing", "view_tradingpause"),
    ("billing", "view_whopevent"),
    ("billing", "view_whopsyncrun"),
    ("billing", "view_emaildelivery"),
    ("billing", "resend_activation"),
    ("billing", "resync_membership"),
    ("billing", "view_health"),
]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="support")
    perms = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in SUPPORT_PERMISSIONS
    ]
    group.permissions.set(perms)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="support").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_seed_plans"),
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_group, remove_group)]
