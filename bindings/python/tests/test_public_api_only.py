"""The SDK uses wasmtime-py's public API only: no private module (``wasmtime._ffi``,
``wasmtime.component._types`` …), no private attribute, no ``__class__`` swap. Fails when any
of our sources or loaded modules reaches past that API."""

import ast
import pathlib
import re
import sys
import types

import wasmtime
import wasmtime.component

import pkgprotect

SOURCES = sorted(pathlib.Path(pkgprotect.__file__).parent.glob("*.py"))
PUBLIC = {"wasmtime": set(wasmtime.__all__), "wasmtime.component": set(wasmtime.component.__all__)}


def test_every_wasmtime_import_is_a_public_name():
    imported = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("wasmtime"):
                        assert alias.name in PUBLIC, f"{path.name}: `import {alias.name}`"
                        imported.append(alias.name)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wasmtime"):
                assert node.module in PUBLIC, f"{path.name}: `from {node.module} import …` (a private module)"
                for alias in node.names:
                    assert alias.name in PUBLIC[node.module], f"{path.name}: `{alias.name}` is not in {node.module}.__all__"
                    imported.append(f"{node.module}.{alias.name}")
    assert "wasmtime.component.Linker" in imported  # the scan saw our imports


PRIVATE = [
    (r"\b_ffi\b", "wasmtime's private `_ffi`"),
    (r"\b_types\b", "wasmtime's private `_types`"),
    (r"__class__\s*=", "a `__class__` swap"),
    (r"\._(func|instance|ptr|set_ptr|from_ptr|from_raw|consume|context|cases|tagged|lower|lift)\b", "a private wasmtime attribute"),
    (r"(?m)^\s*(import|from)\s+ctypes", "raw ctypes (wasmtime's C API)"),
    (r"\bwasmtime\.(component\.)?_", "a private wasmtime module"),
]


def test_no_source_reaches_into_wasmtime_internals():
    scanned = 0
    for path in SOURCES:
        text = path.read_text()
        scanned += 1
        for pattern, what in PRIVATE:
            match = re.search(pattern, text)
            assert match is None, f"{path.name}: {what}: `{match.group(0) if match else ''}`"
    assert scanned >= 5 and not (pathlib.Path(pkgprotect.__file__).parent / "_fast.py").exists()


def test_no_loaded_module_of_ours_holds_a_private_wasmtime_module():
    pkgprotect.RuleSet([]).decide_names(["x"], kind="npm", action="push", actor="guest")  # everything imported and used
    ours = {name: module for name, module in sys.modules.items() if name == "pkgprotect" or name.startswith("pkgprotect.")}
    assert {"pkgprotect", "pkgprotect._runtime", "pkgprotect._convert", "pkgprotect._model"} <= set(ours)
    for name, module in ours.items():
        for attribute, value in vars(module).items():
            if isinstance(value, types.ModuleType) and value.__name__.startswith("wasmtime"):
                assert value.__name__ in PUBLIC, f"{name}.{attribute} is {value.__name__}"
            owner = getattr(value, "__module__", None) or ""
            if owner.startswith("wasmtime") and isinstance(value, type):
                public = value.__name__ in PUBLIC["wasmtime"] | PUBLIC["wasmtime.component"]
                assert public, f"{name}.{attribute} is wasmtime's non-public `{owner}.{value.__name__}`"


def test_the_scan_catches_a_private_import(tmp_path):
    """The checks above would fail on what the 0.1 SDK did."""
    old = "from wasmtime import _ffi as ffi\nfrom wasmtime.component import _types as wit_types\nty.__class__ = Frozen\n"
    tree = ast.parse(old)
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [m for m in modules if m in PUBLIC] == modules  # the modules look public …
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert [n for n in names if n not in PUBLIC["wasmtime"] | PUBLIC["wasmtime.component"]] == ["_ffi", "_types"]  # … the names do not
    assert all(re.search(p, old) for p, _ in PRIVATE[:3])
