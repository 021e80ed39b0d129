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


def _answers(runtime, rules, requests):
    """Batch and single decisions, lint and preview through `runtime`."""
    from pkgprotect import _convert

    wit_requests = [_convert.request_to_wit(r) for r in requests]
    with runtime.lock:
        handle = runtime.call("compile", _convert.rules_to_wit(rules))
        batch = runtime.decide(handle, wit_requests, batch=True)
        single = [runtime.decide(handle, [r], batch=False)[0] for r in wit_requests]
        lint = runtime.call("rule-set.lint", handle)
        preview = runtime.call("preview", "@demo/*", "npm", ["@demo/a", "b"])
        runtime.drop(handle, runtime.generation)
    return batch, single, [_convert.finding_from_wit(f) for f in lint], [_convert.match_from_wit(m) for m in preview]


TRICKY_RULES = [
    {"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
    {"id": 2, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "owner"},
    {"id": 3, "package_name_pattern": "straße*", "package_type": "generic", "minimum_access_level_for_delete": "owner"},
    {"id": 4, "package_name_pattern": "x*\\", "package_type": "conan", "minimum_access_level_for_push": "admin"},
    {"id": 5, "repository_path_pattern": "g/p/*", "minimum_access_level_for_push": "maintainer"},
    {"id": 6, "package_name_pattern": "my_pkg*", "package_type": "pypi", "minimum_access_level_for_push": "owner"},
]


def _tricky_requests():
    names = ["@demo/a", "@DEMO/b", "", " ", "STRASSE-1", "straße-1", "x-y", "My.Pkg-2", "my_pkg", "ünïcödé/😀", "a" * 300]
    requests = []
    for i, name in enumerate(names):
        for package_type in ("npm", "generic", "conan", "pypi"):
            for action in ("push", "delete"):
                actor = list(pkgprotect.ACCESS_LEVELS)[i % 9] if (i + len(package_type)) % 4 else "deploy_token"
                requests.append({"package_name": name, "package_type": package_type, "action": action, "actor": actor})
        requests.append({"repository_path": "g/p/" + name, "action": "push", "actor": "developer"})
    return requests


def test_the_fast_crossing_and_the_type_cache_change_no_answer():
    requests = _tricky_requests()
    cached = _runtime.runtime()
    assert cached.fast is not None, "the fast crossing should check out with the pinned wasmtime-py"
    plain = _runtime.Runtime(_runtime.component_bytes(), cache_types=False, fast_path=False)
    assert plain.fast is None
    fast_answers, plain_answers = _answers(cached, TRICKY_RULES, requests), _answers(plain, TRICKY_RULES, requests)
    assert fast_answers == plain_answers
    batch, single = fast_answers[0], fast_answers[1]
    assert batch == single
    assert any(isinstance(a, str) for a in batch) and any(isinstance(a, pkgprotect.Decision) and not a.allowed for a in batch)
    assert type(plain.funcs["decide"]).__name__ == "Func"
    assert type(cached.funcs["decide"]).__name__ == "_FrozenFunc"


def test_a_large_batch_answers_every_request_in_order():
    requests = _tricky_requests()
    with pkgprotect.RuleSet(TRICKY_RULES) as rules:
        shown = [a if isinstance(a, pkgprotect.Decision) else ("refused", a.message) for a in rules.decide_batch(requests * 40)]
    assert len(shown) == 40 * len(requests)
    assert shown == shown[: len(requests)] * 40
