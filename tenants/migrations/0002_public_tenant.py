from django.conf import settings
from django.db import migrations


def create_public_tenant(apps, schema_editor):
    # The public schema needs its own row and the base domain, or the operator's host answers 404.
    Tenant = apps.get_model("tenants", "Tenant")
    Domain = apps.get_model("tenants", "Domain")
    tenant, _ = Tenant.objects.get_or_create(schema_name="public", defaults={"name": "運営（県）", "slug": "public"})
    Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True})


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [migrations.RunPython(create_public_tenant, migrations.RunPython.noop)]
