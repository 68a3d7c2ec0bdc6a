"""Which third-party packages a Lambda handler can import, found statically: the handler's module, every project
module it imports (transitively, including imports inside functions, and the packages' `__init__` modules), and the
top-level names of the non-project, non-stdlib modules they import. No code is executed, so this also works for an
arm64 asset on an x86_64 machine."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PROJECT_PACKAGES = frozenset({"lakehouse", "lambdas"})


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(tree: ast.AST, package: str) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return names


def project_closure(root: Path, entry_module: str) -> dict[str, ast.Module]:
    """Every project module the entry module can import (transitively), with its parsed source."""
    closure: dict[str, ast.Module] = {}
    todo = [entry_module]
    while todo:
        parts = todo.pop().split(".")
        for depth in range(1, len(parts) + 1):
            module = ".".join(parts[:depth])
            path = _module_file(root, module)
            if module in closure or path is None:
                continue
            closure[module] = tree = ast.parse(path.read_text())
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            todo.extend(name for name in _imported_names(tree, package) if name.split(".")[0] in PROJECT_PACKAGES)
    return closure


def third_party_imports(root: Path, entry_module: str) -> dict[str, set[str]]:
    """Top-level third-party module name -> the project modules that import it."""
    found: dict[str, set[str]] = {}
    for module, tree in project_closure(root, entry_module).items():
        path = _module_file(root, module)
        package = module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
        for name in _imported_names(tree, package):
            top = name.split(".")[0]
            if top and top not in PROJECT_PACKAGES and top != "__future__" and top not in sys.stdlib_module_names:
                found.setdefault(top, set()).add(module)
    return found


def client_services(root: Path, entry_module: str) -> dict[str, set[str]]:
    """AWS service name -> the project modules that build a client for it with a literal name (`.client("s3")`)."""
    found: dict[str, set[str]] = {}
    for module, tree in project_closure(root, entry_module).items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "client"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, set()).add(module)
    return found


def provides(site: Path, top_level: str) -> bool:
    """Whether an installed tree (an asset) has an importable top-level module of that name."""
    return (site / top_level).is_dir() or (site / f"{top_level}.py").is_file() or any(site.glob(f"{top_level}.*.so"))
