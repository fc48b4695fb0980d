"""The support desk's copy-trading permissions, added to the "support" group (billing 0003):
view groups, followers, the copy log, and disarm a follower from the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ACTION = ("disarm_follower", "Can disarm a copy follower from the support admin")
VIEW = ["view_copygroup", "view_follower", "view_copyevent", "view_copyoutcome"]


def add_to_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    follower_type = ContentType.objects.get(app_label="copytrade", model="follower")
    Permission.objects.get_or_create(
        content_type=follower_type, codename=ACTION[0], defaults={"name": ACTION[1]}
    )
    group, _ = Group.objects.get_or_create(name="support")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="copytrade", codename__in=[*VIEW, ACTION[0]]
        )
    )


def remove_from_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="support").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="copytrade", codename__in=[*VIEW, ACTION[0]]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("copytrade", "0001_copy_groups"),
        ("billing", "0003_support_group"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_to_group, remove_from_group)]
