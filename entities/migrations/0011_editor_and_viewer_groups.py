"""Groups *Editors* (every permission on stories and entities, the custom
action permissions included) and *Viewers* (view only), SPEC §11."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ("articles", "entities")
GROUPS = ("Editors", "Viewers")


def create_groups(apps, schema_editor=None):
    """Also run by tests whose database was flushed (transactional tests)."""
    # Permissions are created after all migrations ran (post_migrate): make
    # them now, for the groups to hold them.
    for label in (*APPS, "auth", "contenttypes"):
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # The history is written by the code, never edited by hand.
    mine = Permission.objects.filter(content_type__app_label__in=APPS).exclude(
        content_type__model__in=("change", "changesubject"),
        codename__regex=r"^(add|change|delete)_",
    )
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.set(mine)
    viewers, _ = Group.objects.get_or_create(name="Viewers")
    viewers.permissions.set(mine.filter(codename__startswith="view_"))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("articles", "0008_action_permissions"),
        ("entities", "0010_editor_history_and_slugs"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
