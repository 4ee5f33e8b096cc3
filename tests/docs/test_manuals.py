"""The manuals describe what users and administrators actually have."""

from pathlib import Path

from django.urls import get_resolver

DOCS = Path(__file__).resolve().parents[2] / "docs"


def admin_url_names() -> set[str]:
    resolver = get_resolver("config.urls_tenant")
    names = set()
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) == "adminpanel":
            names |= {f"adminpanel:{p.name}" for p in pattern.url_patterns if p.name}
    return names


def test_every_admin_screen_is_in_the_administrators_manual():
    manual = (DOCS / "admin-manual.md").read_text(encoding="utf-8")
    names = admin_url_names()
    assert len(names) >= 10
    missing = sorted(name for name in names if name not in manual)
    assert not missing, f"管理者マニュアルに記載のない管理画面: {missing}"


def test_the_manuals_are_japanese_and_have_a_table_of_contents():
    for name in ("user-manual.md", "admin-manual.md", "operations.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        assert "## 目次" in text
        assert text.startswith("# Akagi")


CONSOLE_NAMESPACES = {"console", "dashboard", "announcements", "environments", "training_env", "jobs", "operators"}


def console_url_names() -> set[str]:
    resolver = get_resolver("config.urls_public")
    names = set()
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) in CONSOLE_NAMESPACES:
            names |= {f"{pattern.namespace}:{p.name}" for p in pattern.url_patterns if p.name}
    return names


def test_every_console_screen_is_in_the_operators_manual():
    manual = (DOCS / "operator-manual.md").read_text(encoding="utf-8")
    names = console_url_names()
    assert len(names) >= 15
    missing = sorted(name for name in names if name not in manual)
    assert not missing, f"運営者マニュアルに記載のない運営コンソールの画面: {missing}"
    assert "## 目次" in manual and "<!--" not in manual  # every section written, no placeholder left
