"""Demo data for ``make run``: fictional municipalities, seeded only into an empty installation.

The passwords are public (printed and in the README): this data is for trying the service, never production.
"""

from __future__ import annotations

from django.db import transaction

from tenants.crossing import in_tenant
from tenants.models import PUBLIC_SCHEMA, Tenant
from tenants.services import create_tenant, ensure_public_tenant

ADMIN_PASSWORD = "Kanri#Demo2026"  # noqa: S105 - public demo password, printed by make run
STAFF_PASSWORD = "Shokuin#Demo2026"  # noqa: S105 - public demo password

DEMO_OPERATOR = {
    "staff_number": "PREF-0001",
    "email": "operator@pref.example.jp",
    "full_name": "県 運営担当",
    "password": "Unei#Demo2026",
}


def _tenant(slug: str, name: str, domain: str, prefix: str) -> dict:
    return {
        "slug": slug,
        "name": name,
        "seat_cap": 50,
        "users": [
            {"staff_number": f"{prefix}001", "email": f"kanri@{domain}", "full_name": "管理 太郎",
             "role": "admin", "password": ADMIN_PASSWORD, "department": "情報政策課"},
            {"staff_number": f"{prefix}002", "email": f"sato@{domain}", "full_name": "佐藤 花子",
             "role": "general", "password": STAFF_PASSWORD, "department": "市民課"},
            {"staff_number": f"{prefix}003", "email": f"suzuki@{domain}", "full_name": "鈴木 一郎",
             "role": "general", "password": STAFF_PASSWORD, "department": "福祉課"},
        ],
    }


DEMO_TENANTS = [
    _tenant("demo-a", "あかぎ市（デモ）", "city.akagi.example.jp", "A"),
    _tenant("demo-b", "はるな町（デモ）", "town.haruna.example.jp", "B"),
    _tenant("demo-c", "みょうぎ村（デモ）", "vill.myogi.example.jp", "C"),
]


def is_empty() -> bool:
    from accounts.models import User

    return not Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).exists() and not User.objects.exists()


def seed_demo() -> bool:
    """Seed the operator and three municipalities when the installation is empty; return whether it did."""
    from accounts.models import User
    from accounts.services import create_user

    ensure_public_tenant()
    if not is_empty():
        return False
    with transaction.atomic():
        User.objects.create_superuser(
            DEMO_OPERATOR["staff_number"], DEMO_OPERATOR["email"], DEMO_OPERATOR["password"],
            full_name=DEMO_OPERATOR["full_name"],
        )
    for spec in DEMO_TENANTS:
        admin, *staff = spec["users"]
        result = create_tenant(
            slug=spec["slug"], name=spec["name"], seat_cap=spec["seat_cap"],
            admin_email=admin["email"], admin_staff_number=admin["staff_number"],
            admin_password=admin["password"], admin_full_name=admin["full_name"],
        )
        with in_tenant(result.tenant):
            for user in staff:
                create_user(
                    staff_number=user["staff_number"], email=user["email"], password=user["password"],
                    full_name=user["full_name"], department=user["department"], role=user["role"],
                )
            User.objects.filter(staff_number=admin["staff_number"]).update(department=admin["department"])
    return True
