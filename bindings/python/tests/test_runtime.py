"""The runtime: the shipped component, limits, instance resets, the type cache."""

import gc
import os
import pathlib

import pytest

import pkgprotect
from pkgprotect import _runtime
from conftest import npm_push


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


def test_a_trap_resets_the_instance_and_rule_sets_compile_again(monkeypatch, rule_set):
    runtime = _runtime.runtime()
    before = rule_set.decide(npm_push("@demo/core", "developer"))
    generation = runtime.generation
    monkeypatch.setattr(_runtime, "FUEL_BASE", 10)
    monkeypatch.setattr(_runtime, "FUEL_PER_ITEM", 0)
    with pytest.raises(pkgprotect.EngineError, match=r"failed in `rule-set.decide` \(the instance was reset\): wasm trap: all fuel consumed by WebAssembly$") as caught:
        rule_set.decide(npm_push("@demo/core", "developer"))
    assert "wasm backtrace" in caught.value.detail
    monkeypatch.undo()
    assert runtime.generation == generation + 1
    assert rule_set.decide(npm_push("@demo/core", "developer")) == before


def test_garbage_collected_rule_sets_are_freed_at_the_next_call(demo_rules):
    runtime = _runtime.runtime()
    rule_sets = [pkgprotect.RuleSet(demo_rules) for _ in range(3)]
    del rule_sets
    gc.collect()
    assert len(runtime._pending_drops) == 3
    pkgprotect.version()
    assert runtime._pending_drops == []


def test_the_type_cache_changes_no_answer(demo_rules):
    plain = _runtime.Runtime(_runtime.component_bytes(), cache_types=False)
    cached = _runtime.runtime()
    from pkgprotect import _convert

    def answers(runtime):
        with runtime.lock:
            handle = runtime.call("compile", _convert.rules_to_wit(demo_rules))
            requests = [_convert.request_to_wit(npm_push(name, actor)) for name in ("@demo/core", "x") for actor in ("guest", "owner", "deploy_token")]
            batch = runtime.call("rule-set.decide-batch", handle, requests)
            lint = runtime.call("rule-set.lint", handle)
            preview = runtime.call("preview", "@demo/*", "npm", ["@demo/a", "b"])
            runtime.drop(handle, runtime.generation)
        return (
            [_convert.decision_from_wit(d) for d in batch],
            [_convert.finding_from_wit(f) for f in lint],
            [_convert.match_from_wit(m) for m in preview],
        )

    assert answers(plain) == answers(cached)
    assert type(plain.funcs["decide"]).__name__ == "Func"
    assert type(cached.funcs["decide"]).__name__ == "_FrozenFunc"
