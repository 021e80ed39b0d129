-- When each rule last changed, in milliseconds since the epoch, for DELETE's
-- `If-Unmodified-Since` (GitLab's `destroy_conditionally!` compares the rule's `updated_at`).
-- Rules stored before this migration have none, and GitLab then deletes unconditionally.
ALTER TABLE package_protection_rules ADD COLUMN updated_at_ms INTEGER;
ALTER TABLE container_repository_protection_rules ADD COLUMN updated_at_ms INTEGER;
