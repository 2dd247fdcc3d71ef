"""The clip store is the only way to the files: no module of ``recordings`` goes around it."""

import ast
from pathlib import Path

import pytest

RECORDINGS = Path(__file__).resolve().parents[1]
STORE = RECORDINGS / "storage"
FORBIDDEN_MODULE = "django.core.files.storage"
FORBIDDEN_CALLS = {("os", "link"), ("os", "chmod")}


def private_names_of_the_store() -> set[str]:
    """Names starting with ``_`` (not dunders) that ``recordings/storage`` defines."""
    names: set[str] = set()
    for path in STORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            found: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.append(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                found.append(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                found.append(node.attr)
            names.update(name for name in found if name.startswith("_") and not name.endswith("__"))
    return names


def violations(path: Path, private: set[str]) -> list[str]:
    """What in ``path`` bypasses the store: the storage module, hard links and modes, its private names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        line = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [f"{line} imports {a.name}" for a in node.names if a.name.startswith(FORBIDDEN_MODULE)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(FORBIDDEN_MODULE) or (
                node.module == "django.core.files" and any(a.name == "storage" for a in node.names)
            ):
                found.append(f"{line} imports {node.module}")
            if node.module.startswith("recordings.storage"):
                found += [f"{line} imports {a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in FORBIDDEN_CALLS:
                found.append(f"{line} uses os.{node.attr}")
            elif node.attr in private:
                found.append(f"{line} uses the store's private {node.attr}")
    return found


def modules_outside_the_store() -> list[Path]:
    return [
        path
        for path in sorted(RECORDINGS.rglob("*.py"))
        if STORE not in path.parents and "tests" not in path.relative_to(RECORDINGS).parts
    ]


def test_no_module_of_recordings_goes_around_the_clip_store():
    private = private_names_of_the_store()
    modules = modules_outside_the_store()
    assert RECORDINGS / "upload" / "services.py" in modules
    assert [problem for path in modules for problem in violations(path, private)] == []


@pytest.mark.parametrize(
    "source",
    [
        "from django.core.files.storage import FileSystemStorage\n",
        "import django.core.files.storage\n",
        "from django.core.files import storage\n",
        "import os\nos.link('a', 'b')\n",
        "import os\nos.chmod('a', 0o600)\n",
        "from recordings.storage.chunked import _HEADER\n",
        "from recordings import files\nfiles.clip_storage._storage\n",
    ],
)
def test_the_check_finds_each_way_around(tmp_path: Path, source: str):
    module = tmp_path / "sneaky.py"
    module.write_text(source)
    assert violations(module, private_names_of_the_store()) != []


def test_the_check_lets_the_public_api_through(tmp_path: Path):
    module = tmp_path / "fine.py"
    module.write_text("import os\nfrom recordings import files\nfiles.clip_storage.publish\nos.replace('a', 'b')\n")
    assert violations(module, private_names_of_the_store()) == []
