-- Analytics: what X says about each post and account, over time.
--
-- Snapshots keep X's cumulative counters exactly as X returned them, NULL (never 0) for what X
-- did not return. Each capture has a key (the instant it was due, `slot_at`), so a capture that
-- is stored twice (a retried or concurrent tick) is stored once. Hourly UTC rollups hold the
-- signed deltas between consecutive captures; they are written in the same statement as the
-- snapshot, only when the snapshot row is new, so they never count a capture twice.

-- Every post whose metrics are collected: the platform's own published posts and the posts
-- imported from the account's timeline (published outside the platform). Imported posts live
-- only here, never in `posts`, so the scheduler cannot publish them and the posts API cannot
-- edit them.
CREATE TABLE analytics_posts (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  account_id      uuid NOT NULL REFERENCES x_accounts (id) ON DELETE CASCADE,
  x_post_id       text NOT NULL CHECK (x_post_id ~ '^[0-9]{1,19}$'),
  post_id         uuid REFERENCES posts (id) ON DELETE SET NULL,
  imported        boolean NOT NULL,
  content         text NOT NULL DEFAULT '',
  published_at    timestamptz NOT NULL,
  -- When the next capture is due; NULL once the post is gone from X.
  next_capture_at timestamptz,
  -- The capture a tick has claimed (its due instant); only that tick may store it.
  claim_slot      timestamptz,
  last_captured_at timestamptz,
  deleted_on_x_at timestamptz,
  -- The engagement rate at the post's first capture at least 24 hours after publication: what
  -- best times compares posts by.
  fixed_age_rate  double precision,
  UNIQUE (account_id, x_post_id)
);
CREATE INDEX analytics_posts_due ON analytics_posts (next_capture_at)
  WHERE next_capture_at IS NOT NULL;
CREATE INDEX analytics_posts_published ON analytics_posts (workspace_id, published_at);

-- The platform's published posts, newest first, for registering them with analytics.
CREATE INDEX posts_published_at ON posts (published_at) WHERE status = 'published';

CREATE TABLE post_snapshots (
  post            bigint NOT NULL REFERENCES analytics_posts (id) ON DELETE CASCADE,
  slot_at         timestamptz NOT NULL,
  captured_at     timestamptz NOT NULL,
  impressions     bigint CHECK (impressions >= 0),
  likes           bigint CHECK (likes >= 0),
  reposts         bigint CHECK (reposts >= 0),
  quotes          bigint CHECK (quotes >= 0),
  replies         bigint CHECK (replies >= 0),
  bookmarks       bigint CHECK (bookmarks >= 0),
  url_clicks      bigint CHECK (url_clicks >= 0),
  profile_clicks  bigint CHECK (profile_clicks >= 0),
  x_engagements   bigint CHECK (x_engagements >= 0),
  PRIMARY KEY (post, slot_at)
);

-- The last known value of every counter of a post (a counter X stopped returning keeps its
-- last value), with the engagements and rate computed by THE formula: (likes + reposts +
-- quotes + replies + bookmarks + URL clicks and profile clicks where known) / impressions.
CREATE TABLE post_latest (
  post            bigint PRIMARY KEY REFERENCES analytics_posts (id) ON DELETE CASCADE,
  workspace_id    uuid NOT NULL,
  account_id      uuid NOT NULL,
  published_at    timestamptz NOT NULL,
  captured_at     timestamptz NOT NULL,
  impressions     bigint,
  likes           bigint,
  reposts         bigint,
  quotes          bigint,
  replies         bigint,
  bookmarks       bigint,
  url_clicks      bigint,
  profile_clicks  bigint,
  x_engagements   bigint,
  engagements     bigint NOT NULL,
  -- NULL while impressions are unknown or 0.
  engagement_rate double precision
);
CREATE INDEX post_latest_impressions ON post_latest (workspace_id, impressions DESC NULLS LAST, post);
CREATE INDEX post_latest_rate ON post_latest (workspace_id, engagement_rate DESC NULLS LAST, post);

-- Signed deltas between consecutive captures, summed per account and UTC hour. A capture's
-- deltas go to its hour; a post's first capture goes to the hour it was published (all of it
-- accrued since then).
CREATE TABLE account_hourly (
  account_id      uuid NOT NULL REFERENCES x_accounts (id) ON DELETE CASCADE,
  hour            timestamptz NOT NULL,
  workspace_id    uuid NOT NULL,
  impressions     bigint NOT NULL DEFAULT 0,
  likes           bigint NOT NULL DEFAULT 0,
  reposts         bigint NOT NULL DEFAULT 0,
  quotes          bigint NOT NULL DEFAULT 0,
  replies         bigint NOT NULL DEFAULT 0,
  bookmarks       bigint NOT NULL DEFAULT 0,
  url_clicks      bigint NOT NULL DEFAULT 0,
  profile_clicks  bigint NOT NULL DEFAULT 0,
  engagements     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, hour)
);

-- The same deltas summed over the workspace's accounts, for reports over every account (a
-- 90-day range is at most 2,160 rows, whatever the number of accounts).
CREATE TABLE workspace_hourly (
  workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  hour            timestamptz NOT NULL,
  impressions     bigint NOT NULL DEFAULT 0,
  likes           bigint NOT NULL DEFAULT 0,
  reposts         bigint NOT NULL DEFAULT 0,
  quotes          bigint NOT NULL DEFAULT 0,
  replies         bigint NOT NULL DEFAULT 0,
  bookmarks       bigint NOT NULL DEFAULT 0,
  url_clicks      bigint NOT NULL DEFAULT 0,
  profile_clicks  bigint NOT NULL DEFAULT 0,
  engagements     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, hour)
);

CREATE TABLE account_snapshots (
  account_id      uuid NOT NULL REFERENCES x_accounts (id) ON DELETE CASCADE,
  slot_at         timestamptz NOT NULL,
  workspace_id    uuid NOT NULL,
  captured_at     timestamptz NOT NULL,
  followers       bigint CHECK (followers >= 0),
  following       bigint CHECK (following >= 0),
  posts           bigint CHECK (posts >= 0),
  listed          bigint CHECK (listed >= 0),
  PRIMARY KEY (account_id, slot_at)
);
CREATE INDEX account_snapshots_captured ON account_snapshots (account_id, captured_at);

-- Collection state per account: the next profile snapshot and timeline import.
CREATE TABLE analytics_accounts (
  account_id      uuid PRIMARY KEY REFERENCES x_accounts (id) ON DELETE CASCADE,
  workspace_id    uuid NOT NULL,
  next_sync_at    timestamptz NOT NULL DEFAULT '-infinity',
  claim_slot      timestamptz,
  -- The newest post id a finished import saw (`since_id` of the next import).
  import_since_id text,
  -- An import in progress: the next page and the newest id seen so far.
  import_token    text,
  import_newest_id text,
  -- The last profile snapshot and the last post capture of the account.
  last_synced_at  timestamptz,
  last_captured_at timestamptz
);
CREATE INDEX analytics_accounts_due ON analytics_accounts (next_sync_at);

-- Stretches over 26 hours between two snapshots of an account (collection did not run),
-- recorded when the later snapshot is stored.
CREATE TABLE analytics_gaps (
  account_id      uuid NOT NULL REFERENCES x_accounts (id) ON DELETE CASCADE,
  workspace_id    uuid NOT NULL,
  gap_from        timestamptz NOT NULL,
  gap_to          timestamptz NOT NULL,
  PRIMARY KEY (account_id, gap_from)
);
CREATE INDEX analytics_gaps_workspace ON analytics_gaps (workspace_id, gap_to);

-- X bills reads: collection calls per workspace and UTC day.
CREATE TABLE analytics_reads (
  workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  day             date NOT NULL,
  calls           bigint NOT NULL DEFAULT 0,
  objects         bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, day)
);
CREATE INDEX analytics_reads_day ON analytics_reads (day);
