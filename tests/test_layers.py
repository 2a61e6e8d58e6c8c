"""chalicelib's packages are layers: a module imports only from its own layer and those below it
(README, How it is built), so the shape cannot decay silently."""
import ast

from devtools.stage import PROJECT_DIR

ALLOWED = {  # layer -> the layers its modules may import from
    "core": {"core"},
    "storage": {"core", "storage"},
    "learners": {"core", "storage", "learners"},
    "study": {"core", "storage", "learners", "study"},
    "streams": {"core", "storage", "streams"},
}
TOP = {"http", "services", "config"}  # the edge and the composition: may import any layer


def imported_layers(path):
    """(line, layer or top module) of each chalicelib import in a module."""
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level:
            yield node.lineno, "a relative import"  # named in full, so that the check can read it
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chalicelib"):
            names = ([node.module] if node.module != "chalicelib"
                     else [f"chalicelib.{alias.name}" for alias in node.names])
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("chalicelib.")]
        for name in names:
            yield node.lineno, name.split(".")[1]


def test_every_module_of_chalicelib_sits_in_a_layer_or_at_the_top():
    folder = PROJECT_DIR / "chalicelib"
    loose = {p.stem for p in folder.glob("*.py")} - TOP - {"__init__"}
    folders = {p for p in folder.rglob("*") if p.is_dir() and p.name != "__pycache__"}

    assert loose == set() and {p.name for p in folders} == set(ALLOWED)  # one level of packages
    assert all((p / "__init__.py").exists() for p in folders)


def test_no_module_imports_from_a_layer_above_its_own_or_from_the_top():
    folder = PROJECT_DIR / "chalicelib"
    upward = [f"{path.relative_to(PROJECT_DIR)}:{line} imports chalicelib.{target}"
              for layer, allowed in ALLOWED.items() for path in sorted((folder / layer).rglob("*.py"))
              for line, target in imported_layers(path) if target not in allowed]

    assert upward == []


def test_the_check_sees_an_upward_import_in_any_form(tmp_path):
    module = tmp_path / "scheduling.py"
    module.write_text("from chalicelib.study.sessions import SessionService\n"
                      "from chalicelib import study\n"
                      "def later():\n    import chalicelib.study.reviews\n"
                      "from ..study import due_words\n")
    found = sorted(target for _, target in imported_layers(module))

    assert found == ["a relative import", "study", "study", "study"]
    assert "study" not in ALLOWED["core"]
