"""The escape hatch is used only where a reason to see every household exists.

Scans the source (not tests, not migrations) for ``unscoped`` and for any
direct use of django-scopes' own switches, which would bypass the logged hatch.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_PARTS = {".venv", "var", "migrations", "tests", "node_modules"}

# Who may call unscoped(), and why.
UNSCOPED_ALLOWLIST = {
    "accounts/tenancy.py": "defines it",
    "accounts/admin_site.py": "support staff read metadata across households",
    "accounts/management/commands/list_accounts.py": "operators list every household",
}
# Who may touch django-scopes' switches directly: only the tenancy module.
SCOPES_ALLOWLIST = {"accounts/tenancy.py"}
SCOPES_NAMES = {"scope", "scopes_disabled", "with_scopes_disabled", "with_scope"}


def source_files() -> list[Path]:
    return [
        p for p in ROOT.rglob("*.py") if not SKIP_PARTS & set(p.relative_to(ROOT).parts) and p.name != "conftest.py"
    ]


def uses(tree: ast.AST, names: set[str], module_prefix: str | None = None) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if module_prefix and node.module.startswith(module_prefix) and {a.name for a in node.names} & names:
                return True
            if module_prefix is None and {a.name for a in node.names} & names:
                return True
        if isinstance(node, ast.Attribute) and node.attr in names and module_prefix is not None:
            return True
        if isinstance(node, ast.Name) and node.id in names and module_prefix is None:
            return True
    return False


def test_it_finds_the_source():
    assert any(p.name == "tenancy.py" for p in source_files())


def test_unscoped_is_used_only_by_the_allowlist():
    offenders = [
        str(p.relative_to(ROOT))
        for p in source_files()
        if uses(ast.parse(p.read_text()), {"unscoped"}) and str(p.relative_to(ROOT)) not in UNSCOPED_ALLOWLIST
    ]
    assert offenders == [], f"unscoped() outside its allowlist: {offenders}"


def test_django_scopes_switches_are_used_only_by_tenancy():
    offenders = [
        str(p.relative_to(ROOT))
        for p in source_files()
        if uses(ast.parse(p.read_text()), SCOPES_NAMES, module_prefix="django_scopes")
        and str(p.relative_to(ROOT)) not in SCOPES_ALLOWLIST
    ]
    assert offenders == [], f"django-scopes used directly (bypassing accounts.tenancy): {offenders}"


def test_the_allowlist_has_no_stale_entries():
    files = {str(p.relative_to(ROOT)) for p in source_files()}
    assert set(UNSCOPED_ALLOWLIST) <= files
