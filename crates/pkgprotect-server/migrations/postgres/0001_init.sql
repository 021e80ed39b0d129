-- Projects, users, memberships, tokens and both kinds of protection rules.
-- `rules_version` grows with every rule change, in the same transaction, so that any
-- server instance can tell whether its compiled rule set is current.
CREATE TABLE projects (
    id BIGSERIAL PRIMARY KEY,
    full_path TEXT NOT NULL,
    full_path_lower TEXT NOT NULL UNIQUE,
    rules_version BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    is_admin BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE members (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    access_level BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    deploy_project_id BIGINT REFERENCES projects(id),
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE package_protection_rules (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    package_name_pattern TEXT NOT NULL,
    package_type TEXT NOT NULL,
    minimum_access_level_for_push BIGINT,
    minimum_access_level_for_delete BIGINT,
    UNIQUE (project_id, package_type, package_name_pattern)
);
CREATE TABLE container_repository_protection_rules (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    repository_path_pattern TEXT NOT NULL,
    minimum_access_level_for_push BIGINT,
    minimum_access_level_for_delete BIGINT,
    UNIQUE (project_id, repository_path_pattern)
);
