"""Per-decision cost of the Python SDK against a naive pure-Python `re` loop, in one run.

    python bench.py [--rules 50,1000] [--requests 2000] [--rounds 5]

Workload: npm rules (`@team-N/*`, `@team-N/core-*`, exact names), a user pushing names of
which about a third are blocked. The naive baseline is what one would write by hand: each
pattern compiled once to an anchored case-insensitive regex (`*` → `.*`), then a loop over
the rules per request. It ignores GitLab's escapes, PyPI normalization and Unicode case
rules; on this workload its answers are checked to equal the engine's, so the comparison
is like for like. Every row prints the median over rounds of the time per decision. The
last two rows turn off the SDK's own crossing (`pkgprotect._fast`) to show what it saves.
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import time

import pkgprotect
from pkgprotect import _runtime

LEVELS = pkgprotect.ACCESS_LEVELS


def make_rules(count: int) -> list:
    rules = []
    for i in range(count):
        shape = i % 3
        pattern = (f"@team-{i}/*", f"@team-{i}/core-*", f"@team-{i}/exact-{i}")[shape]
        push = ("maintainer", "owner", "admin")[i % 3]
        rules.append({"id": i + 1, "package_name_pattern": pattern, "package_type": "npm", "minimum_access_level_for_push": push})
    return rules


def make_requests(rule_count: int, count: int) -> list:
    rng = random.Random(7)
    requests = []
    for _ in range(count):
        team = rng.randrange(rule_count * 2)  # half the scopes have no rule
        name = rng.choice((f"@team-{team}/core-lib", f"@team-{team}/exact-{team}", f"@Team-{team}/ui", f"plain-{team}"))
        actor = rng.choice(("developer", "maintainer", "owner"))
        requests.append({"package_name": name, "package_type": "npm", "action": "push", "actor": actor})
    return requests


class NaiveRegexRules:
    """Each pattern → one anchored case-insensitive regex; a loop over the rules."""

    def __init__(self, rules: list):
        self.rules = [
            (
                rule["id"],
                re.compile("".join(".*" if c == "*" else re.escape(c) for c in rule["package_name_pattern"]), re.IGNORECASE),
                rule["package_type"],
                LEVELS[rule["minimum_access_level_for_push"]],
            )
            for rule in rules
        ]

    def decide(self, request: dict) -> list:
        level = LEVELS[request["actor"]]
        name, package_type = request["package_name"], request["package_type"]
        return [rule_id for rule_id, regex, rule_type, minimum in self.rules if rule_type == package_type and level < minimum and regex.fullmatch(name)]


def per_decision(run, decisions: int, rounds: int) -> float:
    """Median seconds per decision over `rounds` runs of `run()` (which makes `decisions`)."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) / decisions)
    return statistics.median(samples)


def bench(rule_count: int, request_count: int, rounds: int) -> list:
    rules, requests = make_rules(rule_count), make_requests(rule_count, request_count)
    naive = NaiveRegexRules(rules)
    with pkgprotect.RuleSet(rules) as rule_set:
        expected = [naive.decide(r) for r in requests]
        got = [d.blocking_rule_ids for d in rule_set.decide_batch(requests)]
        assert got == expected, "the naive loop and the engine disagree on this workload"
        blocked = sum(1 for ids in got if ids)
        batch_size = 1000
        batches = [requests[i : i + batch_size] for i in range(0, len(requests), batch_size)]
        one_shot = requests[: max(1, request_count // 20)]
        rows = [
            ("naive `re` loop (pure Python)", per_decision(lambda: [naive.decide(r) for r in requests], len(requests), rounds)),
            ("pkgprotect RuleSet.decide (warm)", per_decision(lambda: [rule_set.decide(r) for r in requests], len(requests), rounds)),
            (f"pkgprotect RuleSet.decide_batch ({batch_size} a call)", per_decision(lambda: [rule_set.decide_batch(b) for b in batches], len(requests), rounds)),
            ("pkgprotect.decide one-shot (compiles the rules)", per_decision(lambda: [pkgprotect.decide(rules, r) for r in one_shot], len(one_shot), rounds)),
        ]
        # The same calls through wasmtime-py's own value conversion (what `_fast` replaces).
        runtime = _runtime.runtime()
        fast, runtime.fast = runtime.fast, None
        try:
            rows += [
                ("… decide, wasmtime-py's own value conversion", per_decision(lambda: [rule_set.decide(r) for r in requests], len(requests), rounds)),
                ("… decide_batch, wasmtime-py's own value conversion", per_decision(lambda: [rule_set.decide_batch(b) for b in batches], len(requests), rounds)),
            ]
        finally:
            runtime.fast = fast
    print(f"\n{rule_count} npm rules, {len(requests)} requests ({blocked} blocked), median of {rounds} rounds")
    print("| what | per decision | ratio to naive `re` |")
    print("|---|---:|---:|")
    baseline = rows[0][1]
    for what, seconds in rows:
        print(f"| {what} | {seconds * 1e6:,.1f} µs | {seconds / baseline:.2f}× |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="50,1000", help="rule counts, comma-separated")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"pkgprotect engine {pkgprotect.version()}, Python {platform.python_version()}, wasmtime-py {_wasmtime_version()}")
    for count in (int(c) for c in args.rules.split(",")):
        bench(count, args.requests, args.rounds)


def _wasmtime_version() -> str:
    from importlib.metadata import version

    return version("wasmtime")


if __name__ == "__main__":
    main()
