import pytest


DEMO_RULES = [
    {
        "id": 1,
        "project_id": 1,
        "package_name_pattern": "@demo/*",
        "package_type": "npm",
        "minimum_access_level_for_push": "maintainer",
        "minimum_access_level_for_delete": "owner",
    },
    {
        "id": 2,
        "project_id": 1,
        "package_name_pattern": "@demo/core",
        "package_type": "npm",
        "minimum_access_level_for_push": "owner",
        "minimum_access_level_for_delete": None,
    },
    {
        "id": 3,
        "project_id": 1,
        "package_name_pattern": "my_internal_*",
        "package_type": "pypi",
        "minimum_access_level_for_push": "owner",
    },
    {
        "id": 5,
        "project_id": 1,
        "repository_path_pattern": "demo-group/demo-project/release/*",
        "minimum_access_level_for_push": "maintainer",
        "minimum_access_level_for_delete": "owner",
    },
]


def npm_push(name, actor):
    return {"package_name": name, "package_type": "npm", "action": "push", "actor": actor}


#: Rules of every shape for comparing two ways of deciding the same requests.
TRICKY_RULES = [
    {"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
    {"id": 2, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "owner"},
    {"id": 3, "package_name_pattern": "straße*", "package_type": "generic", "minimum_access_level_for_delete": "owner"},
    {"id": 4, "package_name_pattern": "x*\\", "package_type": "conan", "minimum_access_level_for_push": "admin"},
    {"id": 5, "repository_path_pattern": "g/p/*", "minimum_access_level_for_push": "maintainer"},
    {"id": 6, "package_name_pattern": "my_pkg*", "package_type": "pypi", "minimum_access_level_for_push": "owner"},
]


def tricky_requests():
    """Requests of every kind, action and actor over awkward names (one rule of
    TRICKY_RULES cannot be evaluated against some of them)."""
    names = ["@demo/a", "@DEMO/b", "", " ", "STRASSE-1", "straße-1", "x-y", "My.Pkg-2", "my_pkg", "ünïcödé/😀", "a" * 300]
    levels = ["no_access", "minimal_access", "guest", "planner", "reporter", "developer", "maintainer", "owner", "admin"]
    requests = []
    for i, name in enumerate(names):
        for package_type in ("npm", "generic", "conan", "pypi"):
            for action in ("push", "delete"):
                actor = levels[i % 9] if (i + len(package_type)) % 4 else "deploy_token"
                requests.append({"package_name": name, "package_type": package_type, "action": action, "actor": actor})
        requests.append({"repository_path": "g/p/" + name, "action": "push", "actor": "developer"})
    return requests


@pytest.fixture
def demo_rules():
    return [dict(rule) for rule in DEMO_RULES]


@pytest.fixture
def rule_set(demo_rules):
    import pkgprotect

    with pkgprotect.RuleSet(demo_rules) as rules:
        yield rules
