from django.contrib import admin

from tenants.models import Domain, Tenant
from tenants.plans import PLAN_FIELDS, set_plan


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "schema_name", "seat_cap", "monthly_char_cap", "monthly_price_cap_yen",
                    "is_active")
    readonly_fields = ("schema_name", "slug")
    fields = ("name", "slug", "schema_name", "seat_cap", "monthly_char_cap", "monthly_price_cap_yen",
              "allowed_models", "is_training", "is_active")

    def has_add_permission(self, request):
        # Creating a municipality means a schema and a first administrator: tenant_create does all of it.
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Plan changes go through the same service as tenant_set_plan, so they are validated and audited.
        plan = {field: form.cleaned_data[field] for field in PLAN_FIELDS if field in form.changed_data}
        other = [field for field in form.changed_data if field not in PLAN_FIELDS]
        if other:
            Tenant.objects.filter(pk=obj.pk).update(**{field: form.cleaned_data[field] for field in other})
        if plan:
            set_plan(tenant=obj, changes=plan, actor=request.user)


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
