-- The levels GitLab accepts per rule kind and field, and at least one minimum per rule (the
-- core's `allowed_levels` and its model check), held by the schema too: no path around the
-- server can store a rule the API would refuse. A stored row that breaks them fails this
-- migration, and with it the server's start, leaving the database as it was.
ALTER TABLE package_protection_rules
    ADD CONSTRAINT package_rules_push_level
        CHECK (minimum_access_level_for_push IS NULL OR minimum_access_level_for_push IN (40, 50, 60)),
    ADD CONSTRAINT package_rules_delete_level
        CHECK (minimum_access_level_for_delete IS NULL OR minimum_access_level_for_delete IN (50, 60)),
    ADD CONSTRAINT package_rules_a_minimum
        CHECK (minimum_access_level_for_push IS NOT NULL OR minimum_access_level_for_delete IS NOT NULL);
ALTER TABLE container_repository_protection_rules
    ADD CONSTRAINT container_rules_push_level
        CHECK (minimum_access_level_for_push IS NULL OR minimum_access_level_for_push IN (40, 50, 60)),
    ADD CONSTRAINT container_rules_delete_level
        CHECK (minimum_access_level_for_delete IS NULL OR minimum_access_level_for_delete IN (40, 50, 60)),
    ADD CONSTRAINT container_rules_a_minimum
        CHECK (minimum_access_level_for_push IS NOT NULL OR minimum_access_level_for_delete IS NOT NULL);
