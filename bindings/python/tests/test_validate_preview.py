import re

import pytest

import pkgprotect

NPM_RULE = {"package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"}


def test_version_is_the_engines():
    assert re.fullmatch(r"\d+\.\d+\.\d+", pkgprotect.version())


def test_a_valid_rule_comes_back_typed():
    rule = pkgprotect.validate_rule(NPM_RULE)
    assert rule == pkgprotect.PackageRule("@demo/*", "npm", "maintainer", None)
    assert rule.to_dict() == {**NPM_RULE, "minimum_access_level_for_delete": None}
    assert pkgprotect.validate_rule(rule) == rule
    terraform = pkgprotect.validate_rule({"package_name_pattern": "infra/*", "package_type": "terraform_module", "minimum_access_level_for_delete": "admin"})
    assert (terraform.package_type, terraform.minimum_access_level_for_delete) == ("terraform_module", "admin")


def test_the_parameter_layer_answers_400():
    with pytest.raises(pkgprotect.InvalidRuleError) as caught:
        pkgprotect.validate_rule({**NPM_RULE, "minimum_access_level_for_push": "developer"})
    error = caught.value
    assert (error.field, error.http_status) == ("minimum_access_level_for_push", 400)
    assert error.message == "minimum_access_level_for_push does not have a valid value"
    assert str(error) == "invalid rule (GitLab answers 400): minimum_access_level_for_push: minimum_access_level_for_push does not have a valid value"


def test_at_least_one_minimum_is_required():
    with pytest.raises(pkgprotect.InvalidRuleError) as caught:
        pkgprotect.validate_rule({"package_name_pattern": "x", "package_type": "npm"})
    assert caught.value.fields == ["minimum_access_level_for_push,minimum_access_level_for_delete"]
    assert caught.value.http_status == 400


def test_the_model_layer_answers_422_with_every_failing_field():
    with pytest.raises(pkgprotect.InvalidRuleError) as caught:
        pkgprotect.validate_rule({"package_name_pattern": "@bad scope/*", "package_type": "npm", "minimum_access_level_for_push": "owner"})
    assert caught.value.http_status == 422
    assert caught.value.fields == ["package_name_pattern"]
    assert "valid NPM package name" in caught.value.message
    assert all(isinstance(e, pkgprotect.FieldError) and e.http_status == 422 for e in caught.value.errors)


def test_uniqueness_uses_the_existing_rules():
    existing = [{"id": 1, **NPM_RULE}]
    with pytest.raises(pkgprotect.InvalidRuleError, match="has already been taken") as caught:
        pkgprotect.validate_rule({**NPM_RULE, "minimum_access_level_for_push": "owner"}, {"existing_rules": existing})
    assert caught.value.field == "package_name_pattern"
    # uniqueness is case-sensitive, as GitLab's index
    pkgprotect.validate_rule({**NPM_RULE, "package_name_pattern": "@Demo/*"}, {"existing_rules": existing})


def test_container_rules_must_start_with_the_project_path():
    rule = {"repository_path_pattern": "group/project/app*", "minimum_access_level_for_push": "maintainer"}
    valid = pkgprotect.validate_rule(rule, {"project_path": "group/project"})
    assert isinstance(valid, pkgprotect.ContainerRepositoryRule)
    with pytest.raises(pkgprotect.InvalidRuleError) as caught:
        pkgprotect.validate_rule(rule, {"project_path": "other/project"})
    assert (caught.value.field, caught.value.http_status) == ("repository_path_pattern", 422)


def test_the_context_kind_decides_which_parameters_apply():
    with pytest.raises(pkgprotect.InvalidRuleError) as caught:
        pkgprotect.validate_rule(NPM_RULE, {"kind": "container_repository", "project_path": "g/p"})
    assert "repository_path_pattern" in caught.value.fields


@pytest.mark.parametrize(
    "rule, message",
    [
        ("@demo/*", "rule parameters are a JSON object"),
        ({**NPM_RULE, "package_name_pattern": {1, 2}}, "rule parameters are not JSON"),
        ({**NPM_RULE, "id": float("nan")}, "rule parameters are not JSON"),
    ],
)
def test_parameters_that_are_not_json_are_refused(rule, message):
    with pytest.raises(pkgprotect.InvalidRuleError) as caught:
        pkgprotect.validate_rule(rule)
    assert (caught.value.field, caught.value.http_status) == ("base", 400)
    assert message in caught.value.message


@pytest.mark.parametrize(
    "context, field, message",
    [
        ({"kind": "image"}, "kind", "unknown rule kind `\"image\"`"),
        ({"project": "g/p"}, "project", "unknown context field `project`"),
        ({"project_path": 3}, "project_path", "must be a string"),
        (["g/p"], "context", "a validation context is a JSON object"),
    ],
)
def test_bad_contexts_are_refused(context, field, message):
    with pytest.raises(pkgprotect.InvalidRequestError) as caught:
        pkgprotect.validate_rule(NPM_RULE, context)
    assert caught.value.field == field and message in caught.value.message


def test_a_bad_existing_rule_names_its_position():
    with pytest.raises(pkgprotect.InvalidRuleError, match="existing rule at position 0: unknown field `name`"):
        pkgprotect.validate_rule(NPM_RULE, {"existing_rules": [{"name": "x"}]})


def test_preview_marks_the_matched_parts():
    answer = pkgprotect.preview("@demo/*", ["@demo/ui", "@DEMO/core", "@other/ui", ""])
    assert [(m.name, m.matched, m.spans) for m in answer] == [
        ("@demo/ui", True, [(0, 6)]),
        ("@DEMO/core", True, [(0, 6)]),
        ("@other/ui", False, []),
        ("", False, []),
    ]
    assert all(m.error is None for m in answer)


def test_preview_normalizes_pypi_names_only_for_pypi():
    names = ["My.Internal-Pkg", "my_internal_pkg"]
    assert [m.matched for m in pkgprotect.preview("my_internal_*", names, "pypi")] == [True, True]
    assert [m.matched for m in pkgprotect.preview("my_internal_*", names)] == [False, True]


def test_preview_reports_gitlabs_error():
    (reached, not_reached) = pkgprotect.preview("a*\\", ["abc", "b"])
    assert not reached.matched and "ends with a lone" in reached.error
    assert not_reached.error is None


@pytest.mark.parametrize(
    "args, field, message",
    [
        ((1, ["x"]), "pattern", "a pattern is a string"),
        (("x", "x"), "names", "names are a list of strings"),
        (("x", ["x", 2]), "names", "names are strings, got `2`"),
        (("x", ["x"], "gems"), "package_type", "unknown package type `\"gems\"`"),
    ],
)
def test_preview_refuses_bad_arguments(args, field, message):
    with pytest.raises(pkgprotect.InvalidRequestError) as caught:
        pkgprotect.preview(*args)
    assert caught.value.field == field and message in caught.value.message
