"""support sits on top: it uses accounts, devices and recordings, and none of them uses it."""

from pathlib import Path

from accounts.tests.test_dependencies import imported_modules

ROOT = Path(__file__).resolve().parents[2]


def test_no_app_below_imports_support():
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path) if name.split(".")[0] == "support")
        for app in ("accounts", "devices", "recordings")
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts
    }
    assert {path: names for path, names in offenders.items() if names} == {}
