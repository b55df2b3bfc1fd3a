-- X accounts connected to a workspace. Credentials are sealed by the application
-- (XChaCha20-Poly1305, associated data = account and workspace; see common::crypto): the
-- database never holds a token in clear text.

CREATE TABLE x_accounts (
  id                uuid PRIMARY KEY,
  workspace_id      uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  x_user_id         text NOT NULL CHECK (x_user_id ~ '^[0-9]{1,20}$'),
  username          text NOT NULL,
  display_name      text NOT NULL DEFAULT '',
  label             text CHECK (label IS NULL OR length(label) <= 100),
  auth_kind         text NOT NULL CHECK (auth_kind IN ('oauth2', 'oauth1')),
  credentials       text NOT NULL,
  key_id            text NOT NULL,
  scopes            text NOT NULL DEFAULT '',
  token_expires_at  timestamptz,
  last_refreshed_at timestamptz,
  status            text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'needs_reauth', 'paused', 'suspended')),
  last_error        text,
  last_error_at     timestamptz,
  timezone          text NOT NULL DEFAULT 'UTC',
  posting_slots     jsonb NOT NULL DEFAULT '[]'::jsonb,
  daily_post_cap    integer CHECK (daily_post_cap IS NULL OR daily_post_cap BETWEEN 1 AND 2400),
  connected_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, x_user_id)
);
-- Cursor pagination (newest first) with an optional status filter, at 10,000 accounts a workspace.
CREATE INDEX x_accounts_page ON x_accounts (workspace_id, created_at DESC, id DESC);
CREATE INDEX x_accounts_page_status ON x_accounts (workspace_id, status, created_at DESC, id DESC);
-- The refresher's scan: OAuth 2.0 tokens of active accounts by expiry.
CREATE INDEX x_accounts_expiring ON x_accounts (token_expires_at)
  WHERE status = 'active' AND auth_kind = 'oauth2';
CREATE TRIGGER x_accounts_touch BEFORE UPDATE ON x_accounts
  FOR EACH ROW EXECUTE FUNCTION xmp_touch_updated_at();

-- The account a user acts with when a request names none, per workspace.
CREATE TABLE active_accounts (
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  account_id   uuid NOT NULL REFERENCES x_accounts (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, workspace_id)
);
