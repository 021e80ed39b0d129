"""The component under wasmtime-py: one engine, one compiled component, one store and
instance per process, created on first use and guarded by a lock.

Threads: every call into the guest holds ``Runtime.lock`` (a store is not thread-safe).
ctypes releases the GIL while the guest runs, so other threads keep running Python; they
only wait for their own turn in the guest. Processes that fork get their own copy.

Limits: the store may hold at most 64 MiB of guest memory, and every call gets a fuel
budget (instructions) proportional to its input, so a guest bug cannot hang or exhaust the
host. A trap discards the instance; the next call starts a fresh one (rule sets compiled in
the old one are compiled again on their next use).

Speed: decisions cross into the guest through `_fast` (requests laid out directly in the C
API's value format) when it checks out at start; every other call, and decisions when it
does not, go through wasmtime-py's own conversion with its type introspection cached.
"""

from __future__ import annotations

import os
import threading
from importlib import resources
from typing import Any, Callable, Dict, List, Optional, Union

from wasmtime import Config, Engine, Store, Trap, WasmtimeError
from wasmtime.component import Component, Func, Linker, ResourceAny
from wasmtime.component import _types as wit_types

from ._convert import decision_from_wit, record, rules_to_wit
from ._fast import FastDecide
from ._model import Decision, EngineError

API = "pkgprotect:policy/api@0.1.0"
ENGINE = "pkgprotect:policy/engine@0.1.0"
#: Every export the SDK calls: short name → (interface, export name).
EXPORTS = {
    "validate-rule": (API, "validate-rule"),
    "validate-params": (API, "validate-params"),
    "decide": (API, "decide"),
    "preview": (API, "preview"),
    "version": (API, "version"),
    "compile": (ENGINE, "[static]rule-set.compile"),
    "rule-set.decide": (ENGINE, "[method]rule-set.decide"),
    "rule-set.decide-batch": (ENGINE, "[method]rule-set.decide-batch"),
    "rule-set.lint": (ENGINE, "[method]rule-set.lint"),
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


# wasmtime-py 50 asks the C API for a function's type, and for every record's fields and
# every variant's cases, again on each call and each value: two thirds of a warm decision's
# time. Freezing a type tree once (its properties replaced by the values they return, which
# never change for a loaded component) halves the cost of every call. Pinned to the
# wasmtime-py version this was written against; `cache_types=False` turns it off.
_CACHED = {
    wit_types.FuncType: ("params", "result"),
    wit_types.RecordType: ("fields",),
    wit_types.ListType: ("element",),
    wit_types.TupleType: ("elements",),
    wit_types.VariantType: ("cases",),
    wit_types.OptionType: ("payload",),
    wit_types.ResultType: ("ok", "err"),
}
_FROZEN_CLASSES: Dict[type, type] = {}


def _frozen_class(base: type) -> type:
    frozen = _FROZEN_CLASSES.get(base)
    if frozen is None:
        namespace: Dict[str, Any] = {name: None for name in _CACHED[base]}
        if issubclass(base, wit_types.VariantLikeType):
            namespace["_tagged"] = lambda self: self.tagged_cached
        frozen = _FROZEN_CLASSES[base] = type(f"Frozen{base.__name__}", (base,), namespace)
    return frozen


def _freeze_item(item: Any) -> Any:
    if isinstance(item, tuple):  # (name, type) of a record field or variant case
        return (item[0], None if item[1] is None else freeze_type(item[1]))
    return freeze_type(item)


def freeze_type(ty: Any) -> Any:
    """`ty` with its introspection properties computed once (in place)."""
    base = type(ty)
    if base not in _CACHED:
        return ty
    values = {}
    for name in _CACHED[base]:
        value = getattr(ty, name)
        if isinstance(value, list):
            value = [_freeze_item(item) for item in value]
        elif value is not None:
            value = freeze_type(value)
        values[name] = value
    tagged = base._tagged(ty) if issubclass(base, wit_types.VariantLikeType) else None
    ty.__class__ = _frozen_class(base)
    ty.__dict__.update(values)
    if tagged is not None:
        ty.tagged_cached = tagged
    return ty


class _FrozenFunc(Func):
    def type(self, store: Any) -> Any:
        return self.frozen_type


class Runtime:
    """The engine and compiled component, and the one store and instance calls go through."""

    def __init__(self, wasm: bytes, cache_types: bool = True, fast_path: bool = True):
        config = Config()
        config.consume_fuel = True
        self.engine = Engine(config)
        try:
            self.component = Component(self.engine, wasm)
        except WasmtimeError as error:
            raise EngineError(f"pkgprotect.wasm is not a loadable component: {error}") from None
        self.cache_types = cache_types
        self.lock = threading.RLock()
        #: Bumped on each new instance; resources of an older one are gone.
        self.generation = 0
        self._pending_drops: List[ResourceAny] = []
        #: The faster crossing for decisions (`_fast`), when it checks out.
        self.fast: Optional[FastDecide] = None
        self._instantiate()
        if fast_path:
            with self.lock:
                self._enable_fast_path()

    def _instantiate(self) -> None:
        store = Store(self.engine)
        store.set_limits(memory_size=MEMORY_LIMIT)
        store.set_fuel(FUEL_BASE)
        try:
            instance = Linker(self.engine).instantiate(store, self.component)
        except (Trap, WasmtimeError) as error:
            raise EngineError(f"cannot instantiate pkgprotect.wasm: {error}") from None
        funcs: Dict[str, Callable] = {}
        for short, (interface, name) in EXPORTS.items():
            index = instance.get_export_index(store, interface)
            index = index and instance.get_export_index(store, name, index)
            func = index and instance.get_func(store, index)
            if not func:
                raise EngineError(f"pkgprotect.wasm does not export `{interface}#{name}`: not the pkgprotect:policy@0.1.0 component")
            if self.cache_types:
                func.frozen_type = freeze_type(func.type(store))
                func.__class__ = _FrozenFunc
            funcs[short] = func
        self.store, self.funcs = store, funcs
        self._pending_drops.clear()
        self.generation += 1

    def call(self, name: str, *args: Any, items: int = 0) -> Any:
        """Call export `name`; the caller holds `lock`. `items` scales the fuel budget."""
        return self._guarded(name, items, lambda func, store: func(store, *args))

    def _guarded(self, name: str, items: int, run: Callable[[Any, Store], Any]) -> Any:
        """`run(func, store)` with a fuel budget; a trap resets the instance."""
        store = self.store
        self._drop_pending()
        store.set_fuel(FUEL_BASE + FUEL_PER_ITEM * items)
        try:
            return run(self.funcs[name], store)
        except (Trap, WasmtimeError) as error:
            self._instantiate()
            cause = [line.strip() for line in str(error).splitlines() if line.strip()][-1:] or ["unknown error"]
            failure = EngineError(f"pkgprotect.wasm failed in `{name}` (the instance was reset): {cause[0]}")
            failure.detail = str(error)
            raise failure from None

    def decide(self, handle: ResourceAny, requests: List[Any], batch: bool) -> List[Union[Decision, str]]:
        """Decide WIT `requests` against a rule-set `handle` (one `decide` call unless
        `batch`): a `Decision`, or the engine's refusal message, for each. Holds no lock:
        the caller does."""
        name = "rule-set.decide-batch" if batch else "rule-set.decide"
        if self.fast is None:
            if batch:
                answers = self.call(name, handle, requests, items=len(requests))
            else:
                answers = [self.call(name, handle, requests[0], items=1)]
            return [a if isinstance(a, str) else decision_from_wit(a) for a in answers]
        fast, keep = self.fast, []
        lowered = fast.requests(requests, keep) if batch else fast.request(requests[0], keep)
        result = self._guarded(name, len(requests), lambda func, store: fast.call(func, store, [fast.borrow(handle), lowered]))
        try:
            answers = fast.results(result) if batch else [fast.decision(result)]
        finally:
            fast.free(result)
        return [Decision(*payload) if ok else payload for ok, payload in answers]

    def _enable_fast_path(self) -> None:
        """Use `_fast` when the component's types are the ones it writes and a few
        answers agree with wasmtime-py's own conversion."""
        expected = {
            "rule-set.decide": "borrow,record(target:variant(package:record(name:string,package-type:enum),container-repository:string),action:enum,actor:variant(user:enum,deploy-token)) -> result(record(allowed:bool,blocking-rule-ids:list(s64),reason:string),string)",
        }
        try:
            if describe_func(self.funcs["rule-set.decide"], self.store) != expected["rule-set.decide"]:
                return
            self.fast = FastDecide()
            checks = fast_path_checks()
            handle = self.call("compile", checks[0])
            fast_answers = self.decide(handle, checks[1], batch=True) + self.decide(handle, checks[1][:1], batch=False)
            self.fast, fast = None, self.fast
            slow_answers = self.decide(handle, checks[1], batch=True) + self.decide(handle, checks[1][:1], batch=False)
            self.drop(handle, self.generation)
            if fast_answers == slow_answers:
                self.fast = fast
        except Exception:  # any surprise: keep wasmtime-py's own conversion
            self.fast = None

    def drop_later(self, handle: ResourceAny, generation: int) -> None:
        """Drop a rule-set resource at the next call (safe from `__del__`, any thread)."""
        if generation == self.generation:
            self._pending_drops.append(handle)

    def drop(self, handle: ResourceAny, generation: int) -> None:
        """Drop a rule-set resource now; the caller holds `lock`."""
        if generation == self.generation:
            handle.drop(self.store)

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


def describe_type(ty: Any) -> str:
    """A compact signature of a WIT type, to compare with what `_fast` writes."""
    if isinstance(ty, wit_types.RecordType):
        return "record(" + ",".join(f"{n}:{describe_type(t)}" for n, t in ty.fields) + ")"
    if isinstance(ty, wit_types.VariantType):
        return "variant(" + ",".join(n if t is None else f"{n}:{describe_type(t)}" for n, t in ty.cases) + ")"
    if isinstance(ty, wit_types.ResultType):
        return f"result({describe_type(ty.ok)},{describe_type(ty.err)})"
    if isinstance(ty, wit_types.ListType):
        return f"list({describe_type(ty.element)})"
    if isinstance(ty, wit_types.EnumType):
        return "enum"
    if isinstance(ty, wit_types.BorrowType):
        return "borrow"
    return type(ty).__name__.lower()


def describe_func(func: Any, store: Store) -> str:
    fty = func.type(store)
    return ",".join(describe_type(t) for _, t in fty.params) + " -> " + describe_type(fty.result)


def fast_path_checks() -> tuple:
    """Rules and requests whose answers must agree between the two crossings."""
    rules = rules_to_wit(
        [
            {"id": 1, "package_name_pattern": "@a/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 2, "package_name_pattern": "x*\\", "package_type": "generic", "minimum_access_level_for_push": "owner"},
            {"id": 3, "repository_path_pattern": "g/p/*", "minimum_access_level_for_delete": "owner"},
        ]
    )
    requests = [
        record(target=record(name="@a/b", package_type="npm"), action="push", actor="developer"),
        record(target=record(name="@a/b", package_type="npm"), action="push", actor=None),
        record(target=record(name="x-ü", package_type="generic"), action="push", actor="guest"),
        record(target="g/p/img", action="delete", actor="maintainer"),
        record(target="", action="push", actor="admin"),
        record(target=record(name="", package_type="terraform-module"), action="delete", actor="no-access"),
    ]
    return rules, requests
