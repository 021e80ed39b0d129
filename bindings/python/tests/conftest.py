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


@pytest.fixture
def demo_rules():
    return [dict(rule) for rule in DEMO_RULES]


@pytest.fixture
def rule_set(demo_rules):
    import pkgprotect

    with pkgprotect.RuleSet(demo_rules) as rules:
        yield rules
