"""validate_rule / parse_rule: GitLab's create and update checks, as typed errors."""

import pytest

import pkgprotect

NPM_RULE = {"package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"}


def test_versions():
    assert pkgprotect.version() == pkgprotect.CONTRACT_VERSION == "0.2.1"
    major, minor, patch = pkgprotect.engine_version().split(".")
    assert all(part.isdigit() for part in (major, minor, patch))


def test_a_valid_rule_comes_back_typed():
    rule = pkgprotect.validate_rule(NPM_RULE)
    assert rule == pkgprotect.PackageRule("@demo/*", "npm", "maintainer", None)
    assert rule.to_dict() == {**NPM_RULE, "minimum_access_level_for_delete": None}
    assert pkgprotect.validate_rule(rule) == rule
    assert pkgprotect.parse_rule(NPM_RULE) == rule
    terraform = pkgprotect.parse_rule({"package_name_pattern": "infra/*", "package_type": "terraform_module", "minimum_access_level_for_delete": "admin"})
    assert (terraform.package_type, terraform.minimum_access_level_for_delete) == ("terraform_module", "admin")
    container = pkgprotect.parse_rule({"repository_path_pattern": "g/p/*", "minimum_access_level_for_push": "owner"}, {"project_path": "g/p"})
    assert container == pkgprotect.ContainerRepositoryRule("g/p/*", "owner")


def _refusal(params, context=None):
    for call in (pkgprotect.validate_rule, pkgprotect.parse_rule):
        with pytest.raises(pkgprotect.InvalidRuleError) as caught:
            call(params, context)
    error = caught.value
    assert isinstance(error, ValueError) and error.errors
    assert all(isinstance(e, pkgprotect.FieldError) for e in error.errors)
    assert (error.field, error.message) == error.errors[0]
    return error


def test_the_parameter_layer_answers_400():
    error = _refusal({**NPM_RULE, "minimum_access_level_for_push": "developer"})
    assert error.http_status == 400
    assert error.errors == [("minimum_access_level_for_push", "minimum_access_level_for_push does not have a valid value")]
    assert str(error) == "GitLab answers 400: minimum_access_level_for_push: minimum_access_level_for_push does not have a valid value"


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"package_name_pattern": "x", "package_type": "npm"}, ["minimum_access_level_for_push,minimum_access_level_for_delete"]),
        ({"package_name_pattern": "x", "package_type": "rubygems", "minimum_access_level_for_push": "owner"}, ["package_type"]),
        ({"package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_push": 40}, ["minimum_access_level_for_push"]),
        ({"package_type": "npm", "minimum_access_level_for_push": "owner"}, ["package_name_pattern"]),
        ({"package_name_pattern": "x", "package_type": "npm", "minimum_access_level_for_delete": "guest"}, ["minimum_access_level_for_delete"]),
    ],
)
def test_parameter_errors(params, fields):
    error = _refusal(params)
    assert (error.http_status, error.fields) == (400, fields)


def test_the_model_layer_answers_422_with_every_failing_field():
    error = _refusal({"package_name_pattern": "@bad scope/*", "package_type": "npm", "minimum_access_level_for_push": "owner"})
    assert (error.http_status, error.fields) == (422, ["package_name_pattern"])
    assert "valid NPM package name" in error.message
    long = _refusal({"package_name_pattern": "p" * 256, "package_type": "generic", "minimum_access_level_for_push": "owner"})
    assert (long.http_status, long.fields) == (422, ["package_name_pattern"])


def test_uniqueness_uses_the_existing_rules():
    existing = [{"id": 1, **NPM_RULE}]
    error = _refusal({**NPM_RULE, "minimum_access_level_for_push": "owner"}, {"existing_rules": existing})
    assert (error.http_status, error.field) == (422, "package_name_pattern")
    assert "has already been taken" in error.message
    # uniqueness is case-sensitive, as GitLab's index
    pkgprotect.validate_rule({**NPM_RULE, "package_name_pattern": "@Demo/*"}, {"existing_rules": existing})
    # existing rules may be dataclasses
    pkgprotect.validate_rule(NPM_RULE, {"existing_rules": [pkgprotect.PackageRule("@other/*", "npm", "owner", id=2)]})


def test_an_update_is_checked_against_the_rule_as_stored():
    stored = {"id": 1, **NPM_RULE}
    updated = pkgprotect.validate_rule({"minimum_access_level_for_push": "owner"}, {"previous": stored, "existing_rules": [stored]})
    assert updated == pkgprotect.PackageRule("@demo/*", "npm", "owner", None, id=1)
    error = _refusal({"minimum_access_level_for_push": None}, {"previous": stored, "existing_rules": [stored]})
    assert error.http_status in (400, 422)


def test_container_rules_must_start_with_the_project_path():
    rule = {"repository_path_pattern": "group/project/app*", "minimum_access_level_for_push": "maintainer"}
    assert isinstance(pkgprotect.validate_rule(rule, {"project_path": "group/project"}), pkgprotect.ContainerRepositoryRule)
    error = _refusal(rule, {"project_path": "other/project"})
    assert (error.field, error.http_status) == ("repository_path_pattern", 422)


def test_the_context_kind_decides_which_parameters_apply():
    error = _refusal(NPM_RULE, {"kind": "container_repository", "project_path": "g/p"})
    assert "repository_path_pattern" in error.fields


@pytest.mark.parametrize(
    "params, context, field, message",
    [
        ("@demo/*", None, "params", "rule parameters are a JSON object"),
        ({**NPM_RULE, "package_name_pattern": {1, 2}}, None, "params", "rule parameters are not JSON"),
        ({**NPM_RULE, "id": float("nan")}, None, "params", "rule parameters are not JSON"),
        (NPM_RULE, {"kind": "image"}, "context.kind", "unknown rule kind `\"image\"`"),
        (NPM_RULE, {"project": "g/p"}, "context.project", "unknown context field `project`"),
        (NPM_RULE, {"project_path": 3}, "context.project_path", "must be a string"),
        (NPM_RULE, ["g/p"], "context", "a validation context is a JSON object"),
        (NPM_RULE, {"existing_rules": "x"}, "context.existing_rules", "a list of rule objects"),
        (NPM_RULE, {"existing_rules": [{"name": "x"}]}, "context.existing_rules[0].name", "unknown rule field `name`"),
        (NPM_RULE, {"existing_rules": [NPM_RULE, 3]}, "context.existing_rules[1]", "a rule is a JSON object"),
        (NPM_RULE, {"existing_rules": [{"id": 1}]}, "context.existing_rules[0]", "either `package_name_pattern` or `repository_path_pattern`"),
        (NPM_RULE, {"existing_rules": [{**NPM_RULE, "repository_path_pattern": "x"}]}, "context.existing_rules[0]", "not both"),
        (NPM_RULE, {"existing_rules": [{**NPM_RULE, "id": "1"}]}, "context.existing_rules[0].id", "must be an integer"),
        (NPM_RULE, {"existing_rules": [{**NPM_RULE, "package_name_pattern": 1}]}, "context.existing_rules[0].package_name_pattern", "must be a string"),
        (NPM_RULE, {"existing_rules": [{**NPM_RULE, "package_type": "gems"}]}, "context.existing_rules[0].package_type", "unknown package type"),
        (NPM_RULE, {"existing_rules": [{**NPM_RULE, "minimum_access_level_for_push": 40}]}, "context.existing_rules[0].minimum_access_level_for_push", "unknown access level"),
        (NPM_RULE, {"previous": {"repository_path_pattern": "g/p", "package_type": "npm"}}, "context.previous.package_type", "cannot have `package_type`"),
    ],
)
def test_arguments_that_cannot_be_sent_are_refused(params, context, field, message):
    with pytest.raises(pkgprotect.InvalidRequestError) as caught:
        pkgprotect.validate_rule(params, context)
    assert caught.value.field == field and message in caught.value.message
    assert not hasattr(caught.value, "http_status")  # GitLab never saw it: no status invented


def test_the_package_docstring_example_runs_as_shown():
    import doctest

    result = doctest.testmod(pkgprotect)
    assert (result.failed, result.attempted) == (0, 3)
