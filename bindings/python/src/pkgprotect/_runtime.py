"""The component under wasmtime-py, through its public API only (``wasmtime`` and
``wasmtime.component``): one engine, one compiled component, one store and instance per
process, created on first use and guarded by one lock.

Threads: every call into the guest holds ``Runtime.lock`` (a wasmtime store is not
thread-safe; wasmtime-py converts values in Python under that lock too). ctypes releases the
GIL while the guest runs, so other threads keep running Python; they only wait for their
own turn in the guest. Processes that fork get their own copy.

Limits: the store may hold at most 64 MiB of guest memory, and every call gets a fuel budget
(instructions) proportional to its input, so a guest bug cannot hang or exhaust the host. A
trap discards the instance; the next call starts a fresh one (rule sets and name lists made
in the old one are made again on their next use, from what the SDK kept of them).

Contract: the component must export ``pkgprotect:policy@0.2.1`` and its ``version()`` must
answer ``0.2.1``; anything else is refused at load with ``ContractError``.
"""

from __future__ import annotations

import itertools
import os
import threading
from importlib import resources
from typing import Any, Callable, Dict, List, Optional

from wasmtime import Config, Engine, Store, Trap, WasmtimeError
from wasmtime.component import Component, Linker, ResourceAny

from ._model import ContractError, EngineError

CONTRACT = "0.2.1"
PACKAGE = "pkgprotect:policy"
API = f"{PACKAGE}/api@{CONTRACT}"
ENGINE = f"{PACKAGE}/engine@{CONTRACT}"
#: Every export the SDK calls: short name → (interface, export name).
EXPORTS = {
    "version": (API, "version"),
    "engine-version": (API, "engine-version"),
    "validate-params": (API, "validate-params"),
    "decide": (API, "decide"),
    "explain": (API, "explain"),
    "preview": (API, "preview"),
    "rule-set.compile": (ENGINE, "[static]rule-set.compile"),
    "rule-set.len": (ENGINE, "[method]rule-set.len"),
    "rule-set.decide": (ENGINE, "[method]rule-set.decide"),
    "rule-set.explain": (ENGINE, "[method]rule-set.explain"),
    "rule-set.decide-names": (ENGINE, "[method]rule-set.decide-names"),
    "rule-set.decide-batch": (ENGINE, "[method]rule-set.decide-batch"),
    "rule-set.lint": (ENGINE, "[method]rule-set.lint"),
    "name-list.new": (ENGINE, "[constructor]name-list"),
    "name-list.preview": (ENGINE, "[method]name-list.preview"),
    "name-list.decide": (ENGINE, "[method]name-list.decide"),
}
MEMORY_LIMIT = 64 << 20
#: Fuel for one call: a base plus an allowance per input item (rule, request or name).
FUEL_BASE = 200_000_000
FUEL_PER_ITEM = 2_000_000
WASM_ENV = "PKGPROTECT_WASM"


def component_bytes() -> bytes:
    """The component: ``$PKGPROTECT_WASM`` when set, else the copy shipped in the package."""
    override = os.environ.get(WASM_ENV)
    try:
        if override:
            with open(override, "rb") as file:
                return file.read()
        return resources.files(__package__).joinpath("pkgprotect.wasm").read_bytes()
    except OSError as error:
        where = f"`{override}` (from ${WASM_ENV})" if override else "the installed package"
        raise EngineError(f"cannot read pkgprotect.wasm from {where}: {error}") from None


def _contract_of(component: Component, engine: Engine) -> Optional[str]:
    """The pkgprotect:policy version the component exports, if any (from its type)."""
    for name in component.type.exports(engine):
        if name.startswith(f"{PACKAGE}/api@"):
            return name.split("@", 1)[1]
    return None


class Runtime:
    """The engine and compiled component, and the one store and instance calls go through."""

    def __init__(self, wasm: bytes):
        config = Config()
        config.consume_fuel = True
        self.engine = Engine(config)
        try:
            self.component = Component(self.engine, wasm)
        except WasmtimeError as error:
            raise EngineError(f"pkgprotect.wasm is not a loadable component: {error}") from None
        self.lock = threading.RLock()
        #: Bumped on each new instance; resources of an older one are gone.
        self.generation = 0
        self._pending_drops: List[ResourceAny] = []
        #: Every live resource handle, by token: held here so that garbage collection never
        #: finalizes one before its owner's `__del__` has queued it for `drop`.
        self._live: Dict[int, ResourceAny] = {}
        self._tokens = itertools.count()
        # The contract first, so that another version is named as such.
        self.indices = {"version": self._export_index("version")}
        self._instantiate()
        with self.lock:
            found = self.call("version")
        if found != CONTRACT:
            raise ContractError(found, CONTRACT)
        self.indices = {short: self._export_index(short) for short in EXPORTS}
        self._instantiate()

    def _export_index(self, short: str) -> Any:
        interface, name = EXPORTS[short]
        parent = self.component.get_export_index(interface)
        if parent is None:
            raise ContractError(_contract_of(self.component, self.engine), CONTRACT)
        index = self.component.get_export_index(name, parent)
        if index is None:
            raise EngineError(f"pkgprotect.wasm does not export `{interface}#{name}`: not a {PACKAGE}@{CONTRACT} component")
        return index

    def _instantiate(self) -> None:
        store = Store(self.engine)
        store.set_limits(memory_size=MEMORY_LIMIT)
        store.set_fuel(FUEL_BASE)
        try:
            instance = Linker(self.engine).instantiate(store, self.component)
        except (Trap, WasmtimeError) as error:
            raise EngineError(f"cannot instantiate pkgprotect.wasm: {error}") from None
        funcs: Dict[str, Callable] = {}
        for short, index in self.indices.items():
            func = instance.get_func(store, index)
            if func is None:
                raise EngineError(f"pkgprotect.wasm export `{short}` is not a function")
            funcs[short] = func
        self.store, self.funcs = store, funcs
        self._pending_drops.clear()
        self._live.clear()
        self.generation += 1

    def call(self, name: str, *args: Any, items: int = 0) -> Any:
        """Call export `name` with a fuel budget; the caller holds `lock`. `items` scales the
        budget. A trap resets the instance and raises ``EngineError``."""
        if self._pending_drops:
            self._drop_pending()
        store = self.store
        store.set_fuel(FUEL_BASE + FUEL_PER_ITEM * items)
        try:
            return self.funcs[name](store, *args)
        except (Trap, WasmtimeError) as error:
            self._instantiate()
            cause = [line.strip() for line in str(error).splitlines() if line.strip()][-1:] or ["unknown error"]
            failure = EngineError(f"pkgprotect.wasm failed in `{name}` (the instance was reset): {cause[0]}")
            failure.detail = str(error)
            raise failure from None

    def keep(self, handle: ResourceAny) -> int:
        """Hold a new resource handle of the current instance; its token."""
        token = next(self._tokens)
        self._live[token] = handle
        return token

    def drop(self, token: int, generation: int) -> None:
        """Drop a resource now; the caller holds `lock`."""
        handle = self._live.pop(token, None)
        if handle is not None and generation == self.generation:
            handle.drop(self.store)

    def drop_later(self, token: int, generation: int) -> None:
        """Drop a resource at the next call (safe from `__del__`, any thread)."""
        handle = self._live.pop(token, None)
        if handle is not None and generation == self.generation:
            self._pending_drops.append(handle)

    def _drop_pending(self) -> None:
        while self._pending_drops:
            self._pending_drops.pop().drop(self.store)


_RUNTIME: Optional[Runtime] = None
_RUNTIME_LOCK = threading.Lock()


def runtime() -> Runtime:
    """The process's runtime, created on first use."""
    global _RUNTIME
    if _RUNTIME is None:
        with _RUNTIME_LOCK:
            if _RUNTIME is None:
                _RUNTIME = Runtime(component_bytes())
    return _RUNTIME
