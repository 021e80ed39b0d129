"""The Python SDK beside a naive pure-Python `re` loop, and wasmtime-py's own floor, in one run.

    python bench.py [--rules 10,50,100,1000] [--requests 2000] [--rounds 5] [--profile CALL]

Workload: npm rules (`@team-N/*`, `@team-N/core-*`, exact names), users of three levels
pushing names of which some are blocked. The naive baseline is what one would write by hand:
each pattern compiled once to an anchored case-insensitive regex (`*` → `.*`), then a loop
over the rules per request. It ignores GitLab's escapes, PyPI normalization and
PostgreSQL's case rules; on this workload its answers are checked to equal the engine's for
every call timed below (warm, batch and one-shot) before anything is timed.

The floor is wasmtime-py's own cost of a call that takes one small string and returns one:
a component written in WAT whose one export hands its argument back (no guest work), called
through `wasmtime.component.Func` directly. `version()` of this component (no argument, one
short string back) is shown beside it. Every row is
the median over rounds of the time per decision (per call for compiles); each round times
every row in turn, so that load from other processes falls on all rows alike.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import time
from pathlib import Path
from typing import List, Optional

import pkgprotect
from pkgprotect import _convert, _runtime

LEVELS = pkgprotect.ACCESS_LEVELS
ACTORS = ("developer", "maintainer", "owner")
BATCH = 1000


def make_rules(count: int) -> list:
    rules = []
    for i in range(count):
        pattern = (f"@team-{i}/*", f"@team-{i}/core-*", f"@team-{i}/exact-{i}")[i % 3]
        push = ("maintainer", "owner", "admin")[i % 3]
        rules.append({"id": i + 1, "package_name_pattern": pattern, "package_type": "npm", "minimum_access_level_for_push": push})
    return rules


def make_requests(rule_count: int, count: int) -> list:
    rng = random.Random(7)
    requests = []
    for _ in range(count):
        team = rng.randrange(rule_count * 2)  # half the scopes have no rule
        name = rng.choice((f"@team-{team}/core-lib", f"@team-{team}/exact-{team}", f"@Team-{team}/ui", f"plain-{team}"))
        requests.append({"package_name": name, "package_type": "npm", "action": "push", "actor": rng.choice(ACTORS)})
    return requests


class NaiveRegexRules:
    """Each pattern → one anchored case-insensitive regex; a loop over the rules."""

    def __init__(self, rules: list):
        self.rules = [
            (
                rule["id"],
                re.compile("".join(".*" if c == "*" else re.escape(c) for c in rule["package_name_pattern"]), re.IGNORECASE | re.DOTALL),
                rule["package_type"],
                LEVELS[rule["minimum_access_level_for_push"]],
            )
            for rule in rules
        ]

    def blocking(self, request: dict) -> list:
        level = LEVELS[request["actor"]]
        name, package_type = request["package_name"], request["package_type"]
        return [rule_id for rule_id, regex, rule_type, minimum in self.rules if rule_type == package_type and level < minimum and regex.fullmatch(name)]

    def decide(self, request: dict) -> pkgprotect.Summary:
        ids = self.blocking(request)
        return pkgprotect.Summary(not ids, len(ids), ids[0] if ids else None)

    def verdict(self, request: dict) -> pkgprotect.Verdict:
        return pkgprotect.Verdict.BLOCKED if self.blocking(request) else pkgprotect.Verdict.ALLOWED


def timed(rows: List[tuple], rounds: int) -> List[tuple]:
    """``(what, seconds per call, kind)`` for ``(what, run, calls, kind)`` rows: the median
    over ``rounds`` of ``run()``'s time divided by its ``calls``. Rounds go through every row
    in turn, so that load from other processes falls on all rows alike."""
    samples: List[List[float]] = [[] for _ in rows]
    for _ in range(rounds):
        for i, (_, run, calls, _) in enumerate(rows):
            start = time.perf_counter()
            run()
            samples[i].append((time.perf_counter() - start) / calls)
    return [(what, statistics.median(samples[i]), kind) for i, (what, _, _, kind) in enumerate(rows)]


# One export, `echo(name: string) -> string`, that returns its argument from a bump allocator
# reset by post-return: the least any call passing a name in and a string out can cost.
ECHO_COMPONENT = (Path(__file__).resolve().parents[2] / "crates/pkgprotect-host/benches/echo.wat").read_text()


def floor_row(calls: int = 1000) -> tuple:
    """wasmtime-py's own floor: `echo(string) -> string` of a do-nothing component."""
    import wasmtime
    from wasmtime import component

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = component.Linker(engine).instantiate(store, component.Component(engine, ECHO_COMPONENT))
    echo = instance.get_func(store, "echo")
    assert echo is not None and echo(store, "@team-1/core") == "@team-1/core"
    return ("wasmtime-py floor: `echo(string) -> string`, a do-nothing component", lambda: [echo(store, "@team-1/core") for _ in range(calls)], calls, "floor")


def version_row(calls: int = 1000) -> tuple:
    """This component's cheapest call: `version()` through `Func` itself, no SDK code."""
    rt = _runtime.runtime()
    func, store = rt.funcs["version"], rt.store
    assert func(store) == "0.2.1"
    return ("this component's `version()` through `Func`", lambda: [func(store) for _ in range(calls)], calls, None)


def bench(rule_count: int, request_count: int, rounds: int) -> dict:
    rules, requests = make_rules(rule_count), make_requests(rule_count, request_count)
    text = json.dumps(rules)
    naive = NaiveRegexRules(rules)
    developer = [dict(r, actor="developer") for r in requests]
    names = [r["package_name"] for r in developer]
    batches = [requests[i : i + BATCH] for i in range(0, len(requests), BATCH)]
    name_batches = [names[i : i + BATCH] for i in range(0, len(names), BATCH)]
    one_shot = requests[: max(10, request_count // 20)]
    with pkgprotect.RuleSet(rules) as rule_set:
        # Same answers first, for every call timed below.
        expected = [naive.decide(r) for r in requests]
        assert [rule_set.decide(r) for r in requests] == expected, "warm decide disagrees with the naive loop"
        assert rule_set.decide_batch(requests) == [naive.verdict(r) for r in requests], "decide_batch disagrees"
        assert rule_set.decide_names(names, kind="npm", action="push", actor="developer") == [naive.verdict(r) for r in developer], "decide_names disagrees"
        assert [pkgprotect.decide(rules, r) for r in one_shot] == expected[: len(one_shot)], "one-shot decide disagrees"
        assert [pkgprotect.decide(text, r) for r in one_shot] == expected[: len(one_shot)], "one-shot decide (JSON text) disagrees"
        blocked = sum(1 for s in expected if not s.allowed)
        n, m = len(requests), len(one_shot)
        rows = [
            floor_row(),
            ("naive `re` loop, per request", lambda: [naive.decide(r) for r in requests], n, "naive"),
            version_row(),
            ("`RuleSet.decide` (warm) → Summary", lambda: [rule_set.decide(r) for r in requests], n, "warm"),
            ("`RuleSet.explain` (warm) → Decision", lambda: [rule_set.explain(r) for r in requests], n, None),
            (f"`RuleSet.decide_names`, {BATCH} names a call", lambda: [rule_set.decide_names(b, kind="npm", action="push", actor="developer") for b in name_batches], n, "names"),
            (f"`RuleSet.decide_batch`, {BATCH} mixed requests a call", lambda: [rule_set.decide_batch(b) for b in batches], n, "batch"),
            ("naive one-shot (compile regexes, decide)", lambda: [NaiveRegexRules(rules).decide(r) for r in one_shot], m, None),
            ("`pkgprotect.decide(rules, request)` one-shot, rules a list", lambda: [pkgprotect.decide(rules, r) for r in one_shot], m, "one-shot"),
            ("`pkgprotect.decide(text, request)` one-shot, rules GitLab JSON", lambda: [pkgprotect.decide(text, r) for r in one_shot], m, "one-shot-text"),
            ("`RuleSet(rules)` compile, rules a list (one JSON string crosses)", lambda: [pkgprotect.RuleSet(rules).close() for _ in range(5)], 5, None),
        ]
        if rule_count <= 100:
            rows.append(("… compile with typed `list<rule>` (wasmtime-py's conversion)", lambda: _compile_typed(rules), 1, None))
        rows = timed(rows, rounds)
    print(f"\n### {rule_count} npm rules, {n} requests ({blocked} blocked), median of {rounds} rounds\n")
    print("| call | per decision (or call) | × floor | × naive loop |")
    print("|---|---:|---:|---:|")
    floor_s, naive_s = rows[0][1], rows[1][1]
    for what, seconds, _ in rows:
        print(f"| {what} | {seconds * 1e6:,.1f} µs | {seconds / floor_s:,.1f} | {seconds / naive_s:.2f} |")
    return {"rules": rule_count, **{kind: s for _, s, kind in rows if kind}}


def _compile_typed(rules: list) -> None:
    """Compile through the contract's typed `rule-source` (what the SDK does not do)."""
    rt = _runtime.runtime()
    typed = [_convert.rule_variant(rule, f"rules[{i}]") for i, rule in enumerate(rules)]
    with rt.lock:
        handle = rt.call("rule-set.compile", typed, items=len(rules))
        handle.drop(rt.store)


def targets(results: List[dict]) -> None:
    print("\n### Targets\n")
    print("| rules | decide_names < naive loop | decide_batch < naive loop | warm decide ≤ 1.5× floor | one-shot ≤ 5× floor |")
    print("|---:|---|---|---|---|")
    for r in results:
        cells = [str(r["rules"])]
        for kind in ("names", "batch"):
            cells.append(f"{r[kind] * 1e6:.1f} vs {r['naive'] * 1e6:.1f} µs: {'met' if r[kind] < r['naive'] else 'missed'}")
        cells.append(f"{r['warm'] / r['floor']:.1f}×: {'met' if r['warm'] <= 1.5 * r['floor'] else 'missed'}")
        one_shot = min(r["one-shot"], r["one-shot-text"])
        cells.append(f"{one_shot / r['floor']:.1f}×: {'met' if one_shot <= 5 * r['floor'] else 'missed'}")
        print("| " + " | ".join(cells) + " |")


PROFILED = ("version", "decide", "explain", "decide_names", "one-shot")


def profile(rule_count: int, calls: int = 300) -> None:
    """Where a call's time goes, from cProfile: the SDK's own Python, then what wasmtime-py's
    `Func.__call__` spends on type introspection (it asks the C API for the function's
    parameter and result types on every call, and for every record's fields and variant's
    cases on every value), on lowering arguments, in the guest, and on lifting the result."""
    import cProfile
    import pstats

    from wasmtime.component import Func

    rules = make_rules(rule_count)
    request = make_requests(rule_count, 1)[0]
    names = [request["package_name"]] * BATCH
    call_code = Func.__call__.__code__
    call_key = (call_code.co_filename, call_code.co_firstlineno, call_code.co_name)
    stages = {"type": "types", "params": "types", "result": "types", "convert_to_c": "lowering", "enter_wasm": "guest", "convert_from_c": "lifting"}
    # Properties that ask the C API for a type's parts; none calls another, so their
    # cumulative times add up without counting anything twice.
    introspection = {"type", "params", "result", "fields", "cases", "element", "ok", "err", "payload", "names"}
    print(f"\n### Where the time goes ({rule_count} rules; cProfile, {calls} calls each; profiling inflates Python time ~2×)\n")
    print("| call | total | SDK's own Python | wasmtime-py: function type | lowering arguments | guest | lifting the result | other | of all: re-reading WIT types |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with pkgprotect.RuleSet(rules) as rule_set:
        runs = {
            "version": lambda: pkgprotect.version(),
            "decide": lambda: rule_set.decide(request),
            "explain": lambda: rule_set.explain(request),
            "decide_names": lambda: rule_set.decide_names(names, kind="npm", action="push", actor="developer"),
            "one-shot": lambda: pkgprotect.decide(rules, request),
        }
        for name in PROFILED:
            run = runs[name]
            for _ in range(20):
                run()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(calls):
                run()
            profiler.disable()
            stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
            total = sum(tt for _, _, tt, _, _ in stats.values())
            inside = stats[call_key][3]
            spent = dict.fromkeys(("types", "lowering", "guest", "lifting"), 0.0)
            types_total = 0.0
            for (file, line, function), (_, _, _, cumulative, callers) in stats.items():
                if call_key in callers and function in stages:
                    spent[stages[function]] += callers[call_key][3]
                if function in introspection and "wasmtime" in file:
                    types_total += cumulative
            other = inside - sum(spent.values())
            cells = [total, total - inside, *spent.values(), other, types_total]
            label = f"`{name}`" + (f" ({BATCH} names)" if name == "decide_names" else "")
            print(f"| {label} | " + " | ".join(f"{c / calls * 1e6:,.1f} µs" for c in cells) + " |")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="10,50,100,1000", help="rule counts, comma-separated")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print where each call's time goes (cProfile, at the first rule count) instead")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.rules.split(",")]
    if args.profile:
        profile(counts[0])
        return
    print(
        f"pkgprotect {pkgprotect.__version__} (contract {pkgprotect.version()}, engine {pkgprotect.engine_version()}), "
        f"Python {platform.python_version()}, wasmtime-py {_wasmtime_version()}"
    )
    results = [bench(count, args.requests, args.rounds) for count in counts]
    targets(results)


def _wasmtime_version() -> str:
    from importlib.metadata import version

    return version("wasmtime")


if __name__ == "__main__":
    main()
