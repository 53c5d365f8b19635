"""No import circle in ``studio``, found statically (``ast``), so that a function-level import
(the usual way to hide a circle from Python) counts too.

The rule, precisely:

- A *unit* is a top-level module of ``studio`` (``studio.specs``, ``studio.runs``, …) or a
  top-level package with everything under it (``studio.engine``, ``studio.qt``, …).
- Every ``import`` and ``from … import`` statement anywhere in a module's source — module level,
  inside functions, methods, classes and ``if TYPE_CHECKING:`` blocks alike — is an edge from
  that module to the ``studio`` module it names (``from pkg import name`` names the submodule
  ``pkg.name`` when there is one, else ``pkg``). Imports by string (``importlib``) are not edges.
- The graph of units has no cycle, and inside each package the graph of its modules has none.

The intended order (docs ARCHITECTURE.md): data ← specs ← models ← runs ← metrics ← engine ←
latent/editing/playground ← qt ← cli.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import studio

ROOT = Path(studio.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_edges(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported studio module: line of the first such import}."""
    edges: dict[str, dict[str, int]] = defaultdict(dict)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
            for target in targets:
                if (target == "studio" or target.startswith("studio.")) and target != name:
                    edges[name].setdefault(target, node.lineno)
    return edges


def unit(module: str) -> str:
    return ".".join(module.split(".")[:2])


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, …, a], or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def where(edges, a: str, b: str, same_unit: bool) -> str:
    """The import statements behind the edge a -> b, as file:line."""
    hits = [f"{m}:{line} imports {t}" for m, targets in edges.items() for t, line in targets.items()
            if (unit(m), unit(t)) == (a, b) and not same_unit or (m, t) == (a, b)]
    return "; ".join(sorted(hits)[:3])


def _graphs():
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    edges = import_edges(modules)
    units: dict[str, set[str]] = defaultdict(set)
    inside: dict[str, set[str]] = defaultdict(set)
    for a, targets in edges.items():
        for b in targets:
            if unit(a) != unit(b):
                units[unit(a)].add(unit(b))
            elif a != b:
                inside[a].add(b)
    return modules, edges, units, inside


def test_no_import_circle_between_units():
    _, edges, units, _ = _graphs()
    cycle = find_cycle(units)
    assert cycle is None, "import circle " + " -> ".join(cycle) + ": " + " | ".join(
        where(edges, a, b, False) for a, b in zip(cycle, cycle[1:]))


def test_no_import_circle_inside_a_package():
    _, edges, _, inside = _graphs()
    cycle = find_cycle(inside)
    assert cycle is None, "import circle " + " -> ".join(cycle) + ": " + " | ".join(
        where(edges, a, b, True) for a, b in zip(cycle, cycle[1:]))


def test_the_walker_sees_function_level_and_relative_imports(tmp_path):
    """The rule's own check: a circle hidden in a function, through a relative import, is found."""
    pkg = tmp_path / "studio"
    (pkg / "engine").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "engine" / "__init__.py").write_text("from .trainer import Job\n")
    (pkg / "engine" / "trainer.py").write_text("def f():\n    from ..metrics import score\n")
    (pkg / "metrics.py").write_text("def g():\n    if True:\n        from studio.engine import trainer\n")
    modules = {".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__"): p
               for p in pkg.rglob("*.py")}
    edges = import_edges(modules)
    assert edges["studio.engine.trainer"] == {"studio.metrics": 2}
    assert edges["studio.metrics"] == {"studio.engine.trainer": 3}
    assert edges["studio.engine"] == {"studio.engine.trainer": 1}
    units = defaultdict(set)
    for a, targets in edges.items():
        units[unit(a)] |= {unit(b) for b in targets if unit(b) != unit(a)}
    assert find_cycle(units) in (["studio.engine", "studio.metrics", "studio.engine"],
                                 ["studio.metrics", "studio.engine", "studio.metrics"])
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None
