-- Connect flows in progress: the OAuth 2.0 `state` of each, with its PKCE verifier, for ten
-- minutes. A state is taken by `DELETE ... RETURNING`, so exactly one callback gets it, however
-- many race (key-value compare-and-swap is broken on Spin's Redis store). Only the state's
-- SHA-256 is stored: reading this table does not let anyone finish someone else's flow.
CREATE TABLE oauth_states (
  state_hash    text PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  verifier      text NOT NULL,
  redirect_uri  text NOT NULL,
  -- Unix milliseconds; the callback refuses a state at or after this instant.
  expires_at_ms bigint NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at_ms);
