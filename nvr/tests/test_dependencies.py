"""The apps' import graph runs one way: accounts <- devices <- recordings <- notifications <- support.

An app imports only apps below it (function-local imports included: hiding one
inside a function does not change the graph), and no app imports the project
package ``nvr`` outside its tests. What a lower app needs from a higher one comes
through a hook the higher one registers (``accounts.visibility``,
``devices.extensions``).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["accounts", "devices", "recordings", "notifications", "support"]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def wrong_imports(app: str, root: Path = ROOT) -> dict[str, list[str]]:
    """Per module of ``app`` (outside its tests): the imports of apps above it, or of nvr."""
    above = set(LAYERS[LAYERS.index(app) + 1 :]) | {"nvr"}
    found = {}
    for path in (root / app).rglob("*.py"):
        if "tests" in path.relative_to(root).parts:
            continue
        bad = sorted(name for name in imported_modules(path) if name.split(".")[0] in above)
        if bad:
            found[str(path.relative_to(root))] = bad
    return found


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_the_apps_below_it(app: str):
    assert wrong_imports(app) == {}


def test_the_check_sees_a_function_local_import(tmp_path: Path):
    (tmp_path / "devices").mkdir()
    (tmp_path / "devices" / "probe.py").write_text(
        "import accounts\n\ndef f():\n    from recordings.services import purge\n    import nvr.settings\n"
    )
    assert wrong_imports("devices", tmp_path) == {"devices/probe.py": ["nvr.settings", "recordings.services"]}
