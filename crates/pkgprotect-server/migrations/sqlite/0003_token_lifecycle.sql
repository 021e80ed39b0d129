-- Tokens as GitLab has them: scopes, revocation, deploy-token usernames; users can be blocked.
-- Tokens issued before this migration could do everything their kind allowed: personal tokens
-- keep `api`, deploy tokens every registry scope, so no existing client breaks.
ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
ALTER TABLE tokens ADD COLUMN username TEXT;
ALTER TABLE users ADD COLUMN blocked_at INTEGER;
UPDATE tokens SET scopes = 'api' WHERE user_id IS NOT NULL;
UPDATE tokens
    SET scopes = 'read_registry,write_registry,read_package_registry,write_package_registry',
        username = 'gitlab+deploy-token-' || id
    WHERE deploy_project_id IS NOT NULL;
