"""Log-in throttling (django-axes): the support desk may unlock a locked log-in and see the
failed attempts behind a lock-out. Added to the "support" group (billing 0003)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_LOGIN_PERMISSIONS = [
    ("accounts", "unlock_login"),
    ("axes", "view_accessattempt"),
]


def add_to_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="support")
    group.permissions.add(
        *[
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in SUPPORT_LOGIN_PERMISSIONS
        ]
    )


def remove_from_group(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="support").first()
    if group is not None:
        for app, codename in SUPPORT_LOGIN_PERMISSIONS:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_connection_archive"),
        ("billing", "0003_support_group"),
        ("axes", "0010_accessattemptexpiration"),
    ]
    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [
                    ("unlock_login", "Can unlock a log-in locked after failed attempts")
                ]
            },
        ),
        migrations.RunPython(add_to_group, remove_from_group),
    ]
