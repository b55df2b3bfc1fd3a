-- Identity and tenancy: users, workspaces, memberships, refresh tokens, the audit log.

CREATE TABLE users (
  id                   uuid PRIMARY KEY,
  email                text NOT NULL,
  name                 text NOT NULL,
  password_hash        text NOT NULL,
  timezone             text NOT NULL DEFAULT 'UTC',
  default_workspace_id uuid,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
-- Emails are compared case-insensitively; the application stores them lowercased as well.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE TRIGGER users_touch BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION xmp_touch_updated_at();

CREATE TABLE workspaces (
  id         uuid PRIMARY KEY,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER workspaces_touch BEFORE UPDATE ON workspaces
  FOR EACH ROW EXECUTE FUNCTION xmp_touch_updated_at();

ALTER TABLE users ADD CONSTRAINT users_default_workspace_fk
  FOREIGN KEY (default_workspace_id) REFERENCES workspaces (id) ON DELETE SET NULL;

CREATE TABLE memberships (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role         text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE TRIGGER memberships_touch BEFORE UPDATE ON memberships
  FOR EACH ROW EXECUTE FUNCTION xmp_touch_updated_at();

-- Only the SHA-256 of a refresh token is stored. A family is one login session: rotation adds
-- a row to it; logout or reuse revokes all its rows.
CREATE TABLE refresh_tokens (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id  uuid NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- Append-only. No foreign keys on purpose: history outlives the users and workspaces it names.
CREATE TABLE audit_log (
  id             bigserial PRIMARY KEY,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor_id       uuid,
  workspace_id   uuid,
  action         text NOT NULL,
  target_type    text,
  target_id      text,
  correlation_id text,
  client_addr    text,
  user_agent     text,
  details        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id DESC);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION xmp_forbid_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION xmp_forbid_change();
