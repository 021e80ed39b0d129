-- An audit trail of every rule change, written in the transaction that makes the change, so a
-- change and its record commit or roll back together. `before` and `after` are the rule's REST
-- entity (GitLab's field names) as JSON text. No foreign key on `rule_id`: a deleted rule's
-- history outlives it. The actor's username is copied, not joined, so the trail says who it
-- was at the time.
CREATE TABLE rule_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    rule_kind TEXT NOT NULL CHECK (rule_kind IN ('package', 'container_repository')),
    rule_id INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'system')),
    actor_user_id INTEGER,
    actor_username TEXT,
    actor_is_admin INTEGER NOT NULL DEFAULT 0,
    before TEXT,
    after TEXT,
    CHECK ((action = 'create') = (before IS NULL)),
    CHECK ((action = 'delete') = (after IS NULL)),
    CHECK ((actor_kind = 'user') = (actor_user_id IS NOT NULL))
);
CREATE INDEX rule_audit_project ON rule_audit (project_id, id);
