-- The levels GitLab accepts per rule kind and field, and at least one minimum per rule (the
-- core's `allowed_levels` and its model check), held by the schema too: no path around the
-- server can store a rule the API would refuse. SQLite cannot add a constraint to a table, so
-- each rules table is rebuilt with them and its rows copied. A stored row that breaks them
-- fails this migration, and with it the server's start, leaving the database as it was.
CREATE TABLE package_protection_rules_checked (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    package_name_pattern TEXT NOT NULL,
    package_type TEXT NOT NULL,
    minimum_access_level_for_push INTEGER
        CONSTRAINT package_rules_push_level
        CHECK (minimum_access_level_for_push IS NULL OR minimum_access_level_for_push IN (40, 50, 60)),
    minimum_access_level_for_delete INTEGER
        CONSTRAINT package_rules_delete_level
        CHECK (minimum_access_level_for_delete IS NULL OR minimum_access_level_for_delete IN (50, 60)),
    UNIQUE (project_id, package_type, package_name_pattern),
    CONSTRAINT package_rules_a_minimum
        CHECK (minimum_access_level_for_push IS NOT NULL OR minimum_access_level_for_delete IS NOT NULL)
);
INSERT INTO package_protection_rules_checked
    (id, project_id, package_name_pattern, package_type, minimum_access_level_for_push, minimum_access_level_for_delete)
    SELECT id, project_id, package_name_pattern, package_type, minimum_access_level_for_push, minimum_access_level_for_delete
    FROM package_protection_rules;
-- The ids of deleted rules are never given out again (a client may still hold one): carry
-- AUTOINCREMENT's high-water mark over rather than restart it at the largest copied id.
DELETE FROM sqlite_sequence WHERE name = 'package_protection_rules_checked';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'package_protection_rules_checked', seq FROM sqlite_sequence WHERE name = 'package_protection_rules';
DROP TABLE package_protection_rules;
ALTER TABLE package_protection_rules_checked RENAME TO package_protection_rules;

CREATE TABLE container_repository_protection_rules_checked (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    repository_path_pattern TEXT NOT NULL,
    minimum_access_level_for_push INTEGER
        CONSTRAINT container_rules_push_level
        CHECK (minimum_access_level_for_push IS NULL OR minimum_access_level_for_push IN (40, 50, 60)),
    minimum_access_level_for_delete INTEGER
        CONSTRAINT container_rules_delete_level
        CHECK (minimum_access_level_for_delete IS NULL OR minimum_access_level_for_delete IN (40, 50, 60)),
    UNIQUE (project_id, repository_path_pattern),
    CONSTRAINT container_rules_a_minimum
        CHECK (minimum_access_level_for_push IS NOT NULL OR minimum_access_level_for_delete IS NOT NULL)
);
INSERT INTO container_repository_protection_rules_checked
    (id, project_id, repository_path_pattern, minimum_access_level_for_push, minimum_access_level_for_delete)
    SELECT id, project_id, repository_path_pattern, minimum_access_level_for_push, minimum_access_level_for_delete
    FROM container_repository_protection_rules;
DELETE FROM sqlite_sequence WHERE name = 'container_repository_protection_rules_checked';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'container_repository_protection_rules_checked', seq FROM sqlite_sequence
    WHERE name = 'container_repository_protection_rules';
DROP TABLE container_repository_protection_rules;
ALTER TABLE container_repository_protection_rules_checked RENAME TO container_repository_protection_rules;
