"""The project package is the top floor: golive_site assembles the apps (settings, URLs, the API
object, WSGI, the Celery app), and nothing in an app imports it. import-linter checks the same
contracts (pyproject.toml, [tool.importlinter]); this test needs nothing but the standard library."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("migrations_app", "checklists")
TOP_FLOOR = "golive_site"


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _top_floor_imports(path: Path, *, root: Path = ROOT) -> list[str]:
    """`path:line` for each import of golive_site in the file, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(root)}:{node.lineno} imports {module}"
        for node in ast.walk(tree)
        for module in _imported_modules(node)
        if module == TOP_FLOOR or module.startswith(f"{TOP_FLOOR}.")
    ]


def _app_files() -> list[Path]:
    return sorted(path for package in APP_PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_it_finds_the_app_modules():
    files = _app_files()
    assert ROOT / "migrations_app" / "api_kit.py" in files
    assert ROOT / "checklists" / "services.py" in files


def test_it_spots_an_import_of_the_project_package(tmp_path):
    module = tmp_path / "leaky.py"
    module.write_text("import os\n\ndef f():\n    from golive_site.api import api\n    import golive_site\n")
    assert sorted(_top_floor_imports(module, root=tmp_path)) == [
        "leaky.py:4 imports golive_site.api",
        "leaky.py:5 imports golive_site",
    ]


def test_no_app_module_imports_the_project_package():
    offenders = [line for path in _app_files() for line in _top_floor_imports(path)]
    assert not offenders, "apps must not import golive_site (move the code down a floor):\n" + "\n".join(
        offenders
    )
