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
    "devices/ingest/supervisor.py": "the ingest worker lists every household's pull cameras",
    "recordings/upload/cleanup.py": "expire_uploads lists expired uploads of every household (ids only)",
    "recordings/retention.py": "retention lists every household's id, then prunes each in its own scope",
    "recordings/requeue.py": "the requeue lists clips of every household whose processing worker died (ids only)",
    "recordings/sweep.py": "the sweep lists every household's id, then compares each one's files and rows in its scope",
    "bench/timeline.py": "the benchmark picks its households in its own database",
    "recordings/sharing.py": "a share link's hash names its household (the household and link ids only)",
    "support/access.py": "the support viewer finds which household an active grant belongs to (its id only)",
    "support/views/viewer.py": "support's list of the active grants households gave",
}
# Who may set the RLS settings by hand: tenancy itself, and the timeline benchmark, which
# times the scoped SQL against the same SQL unscoped in its own database (never the site's).
# (nvr/testing.py only names set_config, to count such statements in request budgets.)
RLS_SETTINGS_ALLOWLIST = {"accounts/tenancy.py", "accounts/migration_ops.py", "bench/timeline.py", "nvr/testing.py"}
# Who may touch django-scopes' switches directly: only the tenancy module.
SCOPES_ALLOWLIST = {"accounts/tenancy.py"}
SCOPES_NAMES = {"scope", "scopes_disabled", "with_scopes_disabled", "with_scope"}


def source_files() -> list[Path]:
    return [
        p for p in ROOT.rglob("*.py") if not SKIP_PARTS & set(p.relative_to(ROOT).parts) and p.name != "conftest.py"
    ]


def uses(tree: ast.AST, names: set[str], module_prefix: str | None = None) -> bool:
    """With ``module_prefix``: whether the module imports any of ``names`` from it (or
    imports the module itself). Without: whether it refers to any of ``names`` at all,
    by name or as an attribute (``tenancy.unscoped``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            in_module = module_prefix is None or node.module.startswith(module_prefix)
            if in_module and {alias.name for alias in node.names} & names:
                return True
        if module_prefix:
            if isinstance(node, ast.Import) and any(a.name.startswith(module_prefix) for a in node.names):
                return True
        elif (isinstance(node, ast.Attribute) and node.attr in names) or (
            isinstance(node, ast.Name) and node.id in names
        ):
            return True
    return False


def mentions(tree: ast.AST, needles: tuple[str, ...]) -> bool:
    return any(
        isinstance(node, ast.Constant) and isinstance(node.value, str) and any(n in node.value for n in needles)
        for node in ast.walk(tree)
    )


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_it_finds_the_source():
    assert any(p.name == "tenancy.py" for p in source_files())


def test_unscoped_is_used_only_by_the_allowlist():
    offenders = [
        relative(p)
        for p in source_files()
        if uses(ast.parse(p.read_text()), {"unscoped"}) and relative(p) not in UNSCOPED_ALLOWLIST
    ]
    assert offenders == [], f"unscoped() outside its allowlist: {offenders}"


def test_django_scopes_switches_are_used_only_by_tenancy():
    offenders = [
        relative(p)
        for p in source_files()
        if uses(ast.parse(p.read_text()), SCOPES_NAMES | {"state"}, module_prefix="django_scopes")
        and relative(p) not in SCOPES_ALLOWLIST
    ]
    assert offenders == [], f"django-scopes used directly (bypassing accounts.tenancy): {offenders}"


def test_row_level_security_settings_are_set_only_by_tenancy():
    """Raw set_config('nvr.…') elsewhere would be a second, unlogged way out of the scope."""
    offenders = [
        relative(p)
        for p in source_files()
        if mentions(ast.parse(p.read_text()), ("set_config", "nvr.unscoped", "nvr.account_id"))
        and relative(p) not in RLS_SETTINGS_ALLOWLIST
    ]
    assert offenders == [], f"RLS settings touched outside accounts/tenancy.py: {offenders}"


def test_the_scanner_sees_each_way_of_reaching_the_hatch():
    assert uses(ast.parse("from accounts.tenancy import unscoped"), {"unscoped"})
    assert uses(ast.parse("from accounts import tenancy\ntenancy.unscoped('x')"), {"unscoped"})
    assert uses(ast.parse("import django_scopes\ndjango_scopes.scopes_disabled()"), SCOPES_NAMES, "django_scopes")
    assert mentions(ast.parse("cursor.execute(\"SELECT set_config('nvr.unscoped', 'on', true)\")"), ("set_config",))


def test_the_allowlist_has_no_stale_entries():
    files = {relative(p) for p in source_files()}
    assert set(UNSCOPED_ALLOWLIST) <= files
