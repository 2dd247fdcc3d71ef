"""Interfaces open scopes; services assert them.

Requests (the tenancy middleware), device routes, sockets, tasks, commands and admin
actions enter a household's scope; a service (a function in a ``services.py``, or in the
service modules named below) runs in the scope its caller opened and checks it with
``require_account_scope``. The few services that must open one are listed, with their
reason, in ``accounts.tenancy.SCOPE_OPENERS``; this test fails on any other, and on a
listed one that no longer opens a scope.
"""

import ast
from pathlib import Path

from accounts.tenancy import SCOPE_OPENERS

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "devices", "recordings", "support")
SERVICE_MODULES = {"accounts/staff.py", "accounts/support_audit.py"}
OPENERS = {"account_scope", "user_scope", "unscoped"}


def service_modules(root: Path = ROOT) -> list[Path]:
    found = [p for app in APPS for p in (root / app).rglob("services.py") if "tests" not in p.parts]
    return found + [root / name for name in sorted(SERVICE_MODULES) if (root / name).exists()]


def scope_openers(path: Path, root: Path = ROOT) -> set[str]:
    """``module.function`` for each top-level function of ``path`` that calls a scope opener."""
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    found = set()
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for call in ast.walk(node):
            if isinstance(call, ast.Call):
                name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
                if name in OPENERS:
                    found.add(f"{module}.{node.name}")
    return found


def test_only_the_listed_services_open_a_scope():
    opening = set().union(*(scope_openers(path) for path in service_modules()))
    assert opening - set(SCOPE_OPENERS) == set(), "services opening a scope: let the caller open it"
    assert set(SCOPE_OPENERS) - opening == set(), "listed in SCOPE_OPENERS but no longer opening one"


def test_the_check_sees_a_service_opening_a_scope(tmp_path: Path):
    (tmp_path / "devices").mkdir()
    (tmp_path / "devices" / "services.py").write_text(
        "def camera_rename(*, camera):\n    with account_scope(camera.account_id):\n        camera.save()\n\n"
        "def camera_touch(*, camera):\n    camera.save()\n"
    )
    assert scope_openers(tmp_path / "devices" / "services.py", tmp_path) == {"devices.services.camera_rename"}
