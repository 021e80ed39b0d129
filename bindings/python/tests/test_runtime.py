"""The runtime: the shipped component, the contract check, limits, instance resets,
garbage-collected resources."""

import gc
import os
import pathlib

import pytest

import pkgprotect
from pkgprotect import _runtime
from conftest import TRICKY_RULES, npm_push, tricky_requests


def test_the_component_ships_inside_the_package():
    if os.environ.get(_runtime.WASM_ENV):
        pytest.skip("PKGPROTECT_WASM overrides the shipped component")
    shipped = pathlib.Path(pkgprotect.__file__).with_name("pkgprotect.wasm")
    assert shipped.read_bytes()[:8] == b"\0asm\x0d\x00\x01\x00"  # a component, not a core module


def test_a_missing_override_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv(_runtime.WASM_ENV, str(tmp_path / "nope.wasm"))
    with pytest.raises(pkgprotect.EngineError, match=r"cannot read pkgprotect.wasm from `.*nope.wasm` \(from \$PKGPROTECT_WASM\)"):
        _runtime.component_bytes()


def test_bytes_that_are_not_a_component_are_reported():
    with pytest.raises(pkgprotect.EngineError, match="not a loadable component"):
        _runtime.Runtime(b"\0asm\x01\x00\x00\x00")


def fake_component(version, interface_version):
    """A component exporting only `pkgprotect:policy/api@<interface_version>#version`,
    which answers `version`."""
    return f"""(component
  (core module $m
    (memory (export "mem") 1)
    (data (i32.const 16) "\\20\\00\\00\\00\\{len(version):02x}\\00\\00\\00")
    (data (i32.const 32) "{version}")
    (func (export "version") (result i32) i32.const 16)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 64))
  (core instance $i (instantiate $m))
  (func $version (result string)
    (canon lift (core func $i "version") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
  (instance $api (export "version" (func $version)))
  (export "pkgprotect:policy/api@{interface_version}" (instance $api)))"""


@pytest.mark.parametrize(
    "component, found, message",
    [
        (fake_component("0.1.0", "0.1.0"), "0.1.0", "pkgprotect.wasm implements contract `0.1.0`, this SDK needs `0.2.1`"),
        (fake_component("0.2.2", "0.2.1"), "0.2.2", "pkgprotect.wasm implements contract `0.2.2`, this SDK needs `0.2.1`"),
        ("(component)", None, "pkgprotect.wasm does not export pkgprotect:policy, this SDK needs `0.2.1`"),
    ],
)
def test_another_contract_is_refused_at_load(component, found, message):
    with pytest.raises(pkgprotect.ContractError) as caught:
        _runtime.Runtime(component)
    assert (caught.value.found, caught.value.expected, str(caught.value)) == (found, "0.2.1", message)
    assert isinstance(caught.value, pkgprotect.EngineError)


def test_a_component_missing_an_export_is_refused():
    with pytest.raises(pkgprotect.EngineError, match=r"does not export `pkgprotect:policy/api@0.2.1#engine-version`"):
        _runtime.Runtime(fake_component("0.2.1", "0.2.1"))


def test_a_trap_resets_the_instance_and_resources_are_made_again(monkeypatch, rule_set):
    runtime = _runtime.runtime()
    names = pkgprotect.NameList(["@demo/core", "x"])
    request = npm_push("@demo/core", "developer")
    before = (rule_set.explain(request), names.preview("@demo/*", kind="npm"))
    generation = runtime.generation
    monkeypatch.setattr(_runtime, "FUEL_BASE", 10)
    monkeypatch.setattr(_runtime, "FUEL_PER_ITEM", 0)
    with pytest.raises(pkgprotect.EngineError, match=r"failed in `rule-set.decide` \(the instance was reset\): wasm trap: all fuel consumed by WebAssembly$") as caught:
        rule_set.decide(request)
    assert "wasm backtrace" in caught.value.detail
    monkeypatch.undo()
    assert runtime.generation == generation + 1
    assert (rule_set.explain(request), names.preview("@demo/*", kind="npm")) == before
    assert names.decide(rule_set, kind="npm", action="push", actor="developer") == ["blocked", "allowed"]
    names.close()


def test_garbage_collected_resources_are_freed_at_the_next_call(demo_rules):
    runtime = _runtime.runtime()
    live = len(runtime._live)
    made = [pkgprotect.RuleSet(demo_rules) for _ in range(3)] + [pkgprotect.NameList(["a"])]
    assert len(runtime._live) == live + 4
    del made
    gc.collect()
    assert len(runtime._pending_drops) == 4 and len(runtime._live) == live
    pkgprotect.version()
    assert runtime._pending_drops == []


def test_resources_dying_in_a_reference_cycle_are_still_dropped(demo_rules):
    """A rule set kept only by a cycle (here: itself) is finalized by the cycle collector
    together with wasmtime-py's handle object; the runtime's own reference keeps the handle
    usable until it is dropped."""
    runtime = _runtime.runtime()
    rule_set = pkgprotect.RuleSet(demo_rules)
    rule_set.cycle = rule_set
    del rule_set
    gc.collect()
    assert len(runtime._pending_drops) == 1
    assert pkgprotect.version() == "0.2.1"  # drops it without error
    assert runtime._pending_drops == []


def test_a_large_batch_answers_every_request_in_order():
    requests = tricky_requests()
    with pkgprotect.RuleSet(TRICKY_RULES) as rules:
        single = rules.decide_batch(requests)
        assert rules.decide_batch(requests * 40) == single * 40
        names = [f"n{i}-{'😀' * (i % 5)}" for i in range(5000)]
        verdicts = rules.decide_names(names, kind="generic", action="push", actor="guest")
        assert len(verdicts) == 5000 and set(verdicts) == {pkgprotect.Verdict.ALLOWED}
