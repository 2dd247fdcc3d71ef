"""Development tooling stays out of the apps: ``tools`` is not installed and the apps never import it.

Only the apps' tests and their thin management commands (``simulate_camera``)
may use ``tools``; everything else the server loads must run without it.
"""

import ast
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
IMPORTERS = {"import_module", "__import__"}  # importlib.import_module("tools.x") is an import too


def app_packages() -> set[Path]:
    """The installed apps that live in this repository, and the project package ``nvr``."""
    folders = {Path(config.path) for config in apps.get_app_configs()}
    return {folder for folder in folders if ROOT in folder.parents} | {ROOT / "nvr"}


def app_modules() -> list[Path]:
    """Every module of the apps but their tests and management commands."""
    modules = []
    for package in sorted(app_packages()):
        for path in package.rglob("*.py"):
            parts = path.relative_to(package).parts
            if "tests" in parts or parts[:2] == ("management", "commands"):
                continue
            modules.append(path)
    return modules


def imported_modules(path: Path) -> set[str]:
    """Absolute module names ``path`` imports, anywhere in it (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function in IMPORTERS and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def imports_tools(path: Path) -> list[str]:
    return sorted(name for name in imported_modules(path) if name.split(".")[0] == "tools")


def test_no_app_module_imports_tools():
    offenders = {str(path.relative_to(ROOT)): imports_tools(path) for path in app_modules()}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_scan_covers_the_apps_and_skips_tests_and_commands():
    scanned = {str(path.relative_to(ROOT)) for path in app_modules()}
    assert {"accounts/models.py", "devices/consumers.py", "recordings/upload/views.py"} <= scanned
    assert {"support/services.py", "nvr/settings.py"} <= scanned
    assert "devices/management/commands/simulate_camera.py" not in scanned
    assert not any("/tests/" in path for path in scanned)


def test_the_check_sees_every_kind_of_import(tmp_path: Path):
    source = tmp_path / "probe.py"
    source.write_text(
        "import tools\n"
        "import toolset\n"
        "from recordings.tools import helper\n"
        "from . import tools as local\n"
        "def f():\n"
        "    from tools.synth import make_clip\n"
        "    import tools.upload_client as client\n"
        "def g():\n"
        "    import importlib\n"
        "    return importlib.import_module('tools.simulator.stream'), __import__('tools')\n"
    )
    assert imports_tools(source) == ["tools", "tools.simulator.stream", "tools.synth", "tools.upload_client"]


def test_tools_is_not_an_installed_app():
    assert not [app for app in settings.INSTALLED_APPS if app.split(".")[0] == "tools"]
    assert not [config.name for config in apps.get_app_configs() if config.name.split(".")[0] == "tools"]


def test_the_camera_side_client_loads_no_server_code():
    """A camera (and the canary) runs ``recordings/upload/client.py`` without Django: it shares
    only the protocol's constants."""
    probe = (
        "import sys, recordings.upload.client\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'recordings', 'devices', 'accounts'}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ast.literal_eval(result.stdout) == [
        "recordings",
        "recordings.upload",
        "recordings.upload.client",
        "recordings.upload.constants",
    ]


def test_every_folder_of_tests_is_collected():
    """A tests/ folder outside pytest's testpaths never runs, in CI or anywhere (support's
    did not, for a while): every one must be under a configured path."""
    import tomllib

    configured = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    folders = {
        path.relative_to(ROOT).parts[0]
        for path in ROOT.glob("*/**/tests")
        if path.is_dir()
        and not path.relative_to(ROOT).parts[0].startswith(".")
        and not {"node_modules", "var"} & set(path.relative_to(ROOT).parts)
    }
    assert folders <= set(configured), f"tests outside testpaths: {sorted(folders - set(configured))}"
