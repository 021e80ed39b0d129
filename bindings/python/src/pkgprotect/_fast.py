"""A faster crossing for the hot calls: `rule-set.decide` and `rule-set.decide-batch`.

wasmtime-py lowers every argument value through a chain of Python objects, allocating each
string, record and variant with the C API and freeing them after the call: ~40 µs for one
decision request, whatever the batch size. Wasmtime's C API only *reads* argument values
(`wasmtime_component_func_call` converts each `const wasmtime_component_val_t *` into a
Rust `Val`), so here they are laid out in Python-owned ctypes memory instead: names,
enum cases and actors are built once and reused, and a request costs a handful of struct
assignments. Results are read straight from the C values, then freed by one
`wasmtime_component_val_delete`.

Only the value layout of wasmtime-py's own ctypes declarations is used (pinned `<51`).
`Runtime` checks at start that the component's types are the ones this module writes,
and answers a few requests both ways; on any difference it keeps the generic path.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any, Dict, List, Optional, Tuple

from wasmtime import WasmtimeError
from wasmtime import _ffi as ffi
from wasmtime._store import Storelike

from . import _model

VAL = ffi.wasmtime_component_val_t
ENTRY = ffi.wasmtime_component_valrecord_entry_t
VAL_P = ctypes.POINTER(VAL)

K_STRING = ffi.WASMTIME_COMPONENT_STRING.value
K_LIST = ffi.WASMTIME_COMPONENT_LIST.value
K_RECORD = ffi.WASMTIME_COMPONENT_RECORD.value
K_VARIANT = ffi.WASMTIME_COMPONENT_VARIANT.value
K_ENUM = ffi.WASMTIME_COMPONENT_ENUM.value
K_RESULT = ffi.WASMTIME_COMPONENT_RESULT.value
K_RESOURCE = ffi.WASMTIME_COMPONENT_RESOURCE.value

ACCESS_LEVELS = tuple(name.replace("_", "-") for name in _model.ACCESS_LEVELS)
PACKAGE_TYPES = tuple(name.replace("_", "-") for name in _model.PACKAGE_TYPES)


def byte_array(data: bytes) -> Any:
    """A ctypes copy of `data` (at least one byte long, so it has an address)."""
    return (ffi.wasm_byte_t * (len(data) or 1)).from_buffer_copy(data or b"\0")


class _Bytes:
    """Byte vectors pointing into Python-owned buffers (kept alive here)."""

    def __init__(self) -> None:
        self._keep: List[Any] = []
        self._names: Dict[str, ffi.wasm_byte_vec_t] = {}

    def vec(self, data: bytes) -> ffi.wasm_byte_vec_t:
        buffer = byte_array(data)
        self._keep.append(buffer)
        return ffi.wasm_byte_vec_t(len(data), buffer)

    def name(self, text: str) -> ffi.wasm_byte_vec_t:
        """A constant name (field, case): built once."""
        vec = self._names.get(text)
        if vec is None:
            vec = self._names[text] = self.vec(text.encode())
        return vec

    def address(self, text: str) -> Tuple[int, int]:
        """`(length, address)` of a constant name."""
        vec = self.name(text)
        return vec.size, ctypes.cast(vec.data, ctypes.c_void_p).value


# Value layout on 64-bit targets (checked in `FastDecide.__init__`): a value is a kind byte,
# padding, then a 24-byte union at offset 8; a record entry is a name (size, pointer) and a
# value. Requests are written with `struct` into one buffer per call.
VAL_SIZE, ENTRY_SIZE, UNION_OFFSET = 32, 48, 8
_VEC_VAL = struct.Struct("<B7xQQ8x")  # string, enum, record, list: kind, size, pointer
_NAMED_VEC_VAL = struct.Struct("<QQB7xQQ8x")  # entry: name, then a string/enum/record value
_NAMED_VARIANT = struct.Struct("<QQB7xQQQ")  # entry: name, then variant(case, payload pointer)
_PER_REQUEST = VAL_SIZE + 3 * ENTRY_SIZE + VAL_SIZE + 2 * ENTRY_SIZE


class FastDecide:
    """Lowers decision requests and lifts decisions without wasmtime-py's value objects."""

    def __init__(self) -> None:
        if (ctypes.sizeof(ctypes.c_void_p), ctypes.sizeof(VAL), VAL.of.offset, ctypes.sizeof(ENTRY), ENTRY.val.offset) != (
            8, VAL_SIZE, UNION_OFFSET, ENTRY_SIZE, 16,
        ):
            raise TypeError("unexpected wasmtime value layout")
        self._const = _Bytes()
        name, address = self._const.name, self._const.address
        self._enums: Dict[str, VAL] = {}
        for case in ACCESS_LEVELS + PACKAGE_TYPES + ("push", "delete"):
            value = VAL()
            value.kind = K_ENUM
            value.of.enumeration = name(case)
            self._enums[case] = value
        # Constant record entries: `action`, `actor` and `package-type` for every case.
        self._action = {a: _NAMED_VEC_VAL.pack(*address("action"), K_ENUM, *address(a)) for a in ("push", "delete")}
        self._actor = {
            level: _NAMED_VARIANT.pack(*address("actor"), K_VARIANT, *address("user"), ctypes.addressof(self._enums[level]))
            for level in ACCESS_LEVELS
        }
        self._actor[None] = _NAMED_VARIANT.pack(*address("actor"), K_VARIANT, *address("deploy-token"), 0)
        self._package_type = {t: _NAMED_VEC_VAL.pack(*address("package-type"), K_ENUM, *address(t)) for t in PACKAGE_TYPES}
        self._target = address("target")
        self._package, self._container = address("package"), address("container-repository")
        self._name = address("name")

    # -- lowering --------------------------------------------------------------------

    def requests(self, requests: List[Any], keep: List[Any]) -> VAL:
        """`list<decision-request>` from `_convert.record` requests, in memory held by `keep`."""
        items = self._items(requests, keep)
        value = VAL()
        value.kind = K_LIST
        value.of.list.size = len(requests)
        value.of.list.data = ctypes.cast(items, VAL_P)
        return value

    def request(self, request: Any, keep: List[Any]) -> VAL:
        """One `decision-request`, in memory held by `keep`."""
        return VAL.from_address(self._items([request], keep))

    def _items(self, requests: List[Any], keep: List[Any]) -> int:
        """Write the requests' values into one buffer; the address of the first."""
        count = len(requests)
        targets = [r.__dict__["target"] for r in requests]
        names = [(t if isinstance(t, str) else t.__dict__["name"]).encode() for t in targets]
        text_at = count * _PER_REQUEST
        buffer = bytearray(text_at + sum(len(n) for n in names) + 1)
        memory = (ctypes.c_char * len(buffer)).from_buffer(buffer)
        keep.append(memory)
        base = ctypes.addressof(memory)
        entries_at, target_at, target_entries_at = count * VAL_SIZE, count * (VAL_SIZE + 3 * ENTRY_SIZE), count * (2 * VAL_SIZE + 3 * ENTRY_SIZE)
        vec_val, named_vec_val, named_variant = _VEC_VAL.pack_into, _NAMED_VEC_VAL.pack_into, _NAMED_VARIANT.pack_into
        for i, request in enumerate(requests):
            fields = request.__dict__
            name, target = names[i], targets[i]
            buffer[text_at : text_at + len(name)] = name
            entries = entries_at + 3 * ENTRY_SIZE * i
            target_value = target_at + VAL_SIZE * i
            vec_val(buffer, VAL_SIZE * i, K_RECORD, 3, base + entries)
            if isinstance(target, str):
                named_variant(buffer, entries, *self._target, K_VARIANT, *self._container, base + target_value)
                vec_val(buffer, target_value, K_STRING, len(name), base + text_at)
            else:
                named_variant(buffer, entries, *self._target, K_VARIANT, *self._package, base + target_value)
                pair = target_entries_at + 2 * ENTRY_SIZE * i
                vec_val(buffer, target_value, K_RECORD, 2, base + pair)
                named_vec_val(buffer, pair, *self._name, K_STRING, len(name), base + text_at)
                buffer[pair + ENTRY_SIZE : pair + 2 * ENTRY_SIZE] = self._package_type[target.__dict__["package-type"]]
            buffer[entries + ENTRY_SIZE : entries + 2 * ENTRY_SIZE] = self._action[fields["action"]]
            buffer[entries + 2 * ENTRY_SIZE : entries + 3 * ENTRY_SIZE] = self._actor[fields["actor"]]
            text_at += len(name)
        return base

    @staticmethod
    def borrow(handle: Any) -> VAL:
        value = VAL()
        value.kind = K_RESOURCE
        value.of.resource = handle.ptr()
        return value

    # -- calling and lifting -----------------------------------------------------------

    @staticmethod
    def call(func: Any, store: Storelike, args: List[VAL]) -> VAL:
        """Call `func` with laid-out `args`; the caller frees the result with `free`."""
        params = (VAL * len(args))(*args)
        result = VAL()
        error = ffi.wasmtime_component_func_call(ctypes.byref(func._func), store._context(), params, len(args), ctypes.byref(result), 1)
        if error:
            raise WasmtimeError._from_ptr(error)
        return result

    @staticmethod
    def free(result: VAL) -> None:
        ffi.wasmtime_component_val_delete(ctypes.byref(result))

    @staticmethod
    def decision(value: VAL) -> Tuple[bool, Any]:
        """`(True, (allowed, ids, reason))` or `(False, message)` from `result<decision, string>`."""
        if value.kind != K_RESULT:
            raise TypeError("expected a result value")
        inner = value.of.result.val.contents
        if not value.of.result.is_ok:
            return False, ctypes.string_at(inner.of.string.data, inner.of.string.size).decode()
        entries = inner.of.record.data
        allowed = entries[0].val.of.boolean
        ids_list = entries[1].val.of.list
        ids = [ids_list.data[j].of.s64 for j in range(ids_list.size)]
        reason = entries[2].val.of.string
        return True, (bool(allowed), ids, ctypes.string_at(reason.data, reason.size).decode())

    def results(self, value: VAL) -> List[Tuple[bool, Any]]:
        items = value.of.list
        return [self.decision(items.data[i]) for i in range(items.size)]
