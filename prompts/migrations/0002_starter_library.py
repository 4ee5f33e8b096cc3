from django.db import migrations


def seed(apps, schema_editor):
    from prompts.seed import seed_starter_library

    # The public schema has no tenant tables; django-tenants runs this migration in each tenant schema.
    if schema_editor.connection.schema_name == "public":
        return
    seed_starter_library(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("prompts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
