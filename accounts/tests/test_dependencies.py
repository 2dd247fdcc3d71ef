"""accounts builds on neither devices nor recordings (accounts <- devices <- recordings).

Per-camera access keeps to it: the limit's flag is on Membership, the cameras are in
devices, and the access history learns what a limited person may see through
``accounts.visibility``'s registry, never by importing the apps.
"""

import ast
from pathlib import Path

ACCOUNTS = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_accounts_imports_neither_devices_nor_recordings():
    offenders = {
        str(path.relative_to(ACCOUNTS)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in {"devices", "recordings"}
        )
        for path in ACCOUNTS.rglob("*.py")
        if "tests" not in path.parts
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_an_import(tmp_path: Path):
    source = tmp_path / "probe.py"
    source.write_text("import recordings\n\ndef f():\n    from devices.selectors import cameras_visible\n")
    assert imported_modules(source) == {"recordings", "devices.selectors"}
