"""The project package is the top floor: golive_site assembles the apps (settings, URLs, the API
object, WSGI, the Celery app), and nothing in an app imports it. import-linter checks the same
contracts (pyproject.toml, [tool.importlinter]); this test needs nothing but the standard library."""

import ast
from pathlib import Path

import grimp

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


# --- no import cycle, no module too big to hold in mind ------------------------------------------

PACKAGES = (TOP_FLOOR, *APP_PACKAGES)
MAX_LINES = 500


def _cycles(*packages: str) -> list[list[str]]:
    """Groups of modules that import each other, in-function imports included (grimp, the graph
    import-linter reads), found as the strongly connected components of the import graph."""
    graph = grimp.build_graph(*packages)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in order:
            visit(module)
    return cycles


def test_it_spots_a_cycle_hidden_in_a_function(tmp_path, monkeypatch):
    package = tmp_path / "loopy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from loopy import b\n")
    (package / "b.py").write_text("def f():\n    from loopy import a\n")
    (package / "c.py").write_text("from loopy import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles("loopy") == [["loopy.a", "loopy.b"]]


def test_golive_has_no_import_cycle():
    assert _cycles(*PACKAGES) == []


def test_no_application_module_is_over_500_lines():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT / package).parts[:-1]
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these along their sections: {too_long}"
