"""The package's layers: imports point one way, no circle anywhere, no module too long.

Every ``import`` in every module counts, those inside functions too: a lazy import
still ties two modules together. Imports for type checking only (``if TYPE_CHECKING:``)
never run, so they make no circle, but they too must point down the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "simulator"

# Lowest first. A module imports from its own layer and the layers below it.
LAYERS = (
    "version", "scenario", "fit", "paths", "costs", "engine", "decide", "report", "sizing", "",
)  # fmt: skip
"""``""`` is the top: ``cli/``, ``__init__.py`` (the public API), ``__main__.py`` and
``stops.py`` (the command's signal handlers, loaded before ``cli/``)."""

MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    return {
        inner
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for statement in node.body
        for inner in ast.walk(statement)
    }


def imported(name: str, path: Path, known: set[str], *, typing: bool = True) -> set[str]:
    """The package's modules that ``name`` (at ``path``) imports (with ``typing``, those
    imported for type checking only too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set() if typing else _type_checking_only(tree)
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "simulator")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "simulator":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return {m for m in out if m in known and m != name}


def graph(*, typing: bool = True) -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found), typing=typing) for name, path in found.items()}


def layer(name: str) -> int:
    parts = name.split(".")
    top = parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""
    top = "" if top == "cli" else top  # the command line sits at the top, as a package
    return LAYERS.index(top)


def test_every_module_belongs_to_a_layer():
    for name in modules():
        parts = name.split(".")
        assert len(parts) == 1 or parts[1] in LAYERS or parts[1] in ("cli", "__main__", "stops"), (
            name
        )


def test_imports_point_down_the_layers():
    upward = [
        f"{name} ({LAYERS[layer(name)] or 'top'}) imports {target} ({LAYERS[layer(target)]})"
        for name, targets in graph().items()
        for target in sorted(targets)
        if layer(target) > layer(name)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_circle():
    edges = graph(typing=False)
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    circles = []

    def walk(name: str, chain: list[str]) -> None:
        state[name] = 1
        for target in sorted(edges[name]):
            if state.get(target) == 1:
                circles.append(" -> ".join([*chain[chain.index(target) :], target]))
            elif target not in state:
                walk(target, [*chain, target])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            walk(name, [name])
    assert not circles, "\n".join(circles)


def test_no_module_is_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in modules().values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def test_the_walk_sees_imports_inside_functions():
    # The checks above would pass vacuously if lazy imports were missed.
    edges = graph()
    assert "simulator.decide.policy" in edges["simulator"]  # imported inside run()
    assert "simulator.engine.run" in edges["simulator.decide.policy"]
    assert "simulator.decide.summary" in edges["simulator.decide.frames"]  # typing only
    assert "simulator.decide.summary" not in graph(typing=False)["simulator.decide.frames"]
