-- Projects, users, memberships, tokens and both kinds of protection rules.
-- `rules_version` grows with every rule change, in the same transaction, so that any
-- server instance can tell whether its compiled rule set is current.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    full_path TEXT NOT NULL,
    full_path_lower TEXT NOT NULL UNIQUE,
    rules_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    is_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE members (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    access_level INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    deploy_project_id INTEGER REFERENCES projects(id),
    expires_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE package_protection_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    package_name_pattern TEXT NOT NULL,
    package_type TEXT NOT NULL,
    minimum_access_level_for_push INTEGER,
    minimum_access_level_for_delete INTEGER,
    UNIQUE (project_id, package_type, package_name_pattern)
);
CREATE TABLE container_repository_protection_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    repository_path_pattern TEXT NOT NULL,
    minimum_access_level_for_push INTEGER,
    minimum_access_level_for_delete INTEGER,
    UNIQUE (project_id, repository_path_pattern)
);
