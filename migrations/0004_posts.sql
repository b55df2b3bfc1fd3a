-- Posts (with threads and polls), their history, engagement actions and idempotency keys.
-- Sized for about 1,000,000 posts: every list and every scheduler scan has its own index, and
-- the scheduler's indexes are partial so they stay as small as the work that is pending.

CREATE TABLE posts (
  id                   uuid PRIMARY KEY,
  workspace_id         uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  -- A deleted account's posts keep their history (their pending ones are cancelled first).
  account_id           uuid REFERENCES x_accounts (id) ON DELETE SET NULL,
  -- History outlives its author: the post stays when the user is deleted.
  author_id            uuid REFERENCES users (id) ON DELETE SET NULL,
  -- NFC-normalised and trimmed by common::posts::text; the weighted 280 limit is checked there
  -- (URLs count 23, so the raw length is bounded only loosely here).
  content              text NOT NULL CHECK (content <> '' AND length(content) <= 25000),
  media_ids            text[] NOT NULL DEFAULT '{}' CHECK (cardinality(media_ids) <= 4),
  reply_to             text CHECK (reply_to ~ '^[0-9]{1,19}$'),
  quote_of             text CHECK (quote_of ~ '^[0-9]{1,19}$'),
  -- {"options": [...], "durationMinutes": n}
  poll                 jsonb CHECK (poll IS NULL OR jsonb_typeof(poll) = 'object'),
  -- A single post is a thread of one: thread_id = id, thread_position = 0. Later parts point at
  -- the first part and are deleted with it.
  thread_id            uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  thread_position      integer NOT NULL DEFAULT 0 CHECK (thread_position BETWEEN 0 AND 24),
  status               text NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'scheduled', 'publishing', 'published',
                                         'failed', 'cancelled')),
  scheduled_at         timestamptz,
  -- Placed by the queue (the account's next free posting slot) rather than by a chosen time.
  queued               boolean NOT NULL DEFAULT false,
  lease_owner          text,
  lease_expires_at     timestamptz,
  attempts             integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- Set by retries and rate-limit deferrals; the post is due at coalesce(next_attempt_at,
  -- scheduled_at), so the time the user chose is never rewritten by the scheduler.
  next_attempt_at      timestamptz,
  x_post_id            text CHECK (x_post_id ~ '^[0-9]{1,19}$'),
  published_at         timestamptz,
  last_error           text,
  -- SHA-256 hex of the case- and whitespace-folded text (TweetText::duplicate_key).
  normalized_text_hash text NOT NULL CHECK (normalized_text_hash ~ '^[0-9a-f]{64}$'),
  idempotency_key      text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  deleted_on_x_at      timestamptz,
  UNIQUE (thread_id, thread_position),
  CONSTRAINT posts_thread_head CHECK ((thread_position = 0) = (thread_id = id)),
  -- X takes one of media, a poll or a quote per post.
  CONSTRAINT posts_one_attachment
    CHECK ((cardinality(media_ids) > 0)::int + (poll IS NOT NULL)::int
           + (quote_of IS NOT NULL)::int <= 1),
  CONSTRAINT posts_pending_has_account
    CHECK (status NOT IN ('scheduled', 'publishing') OR account_id IS NOT NULL),
  CONSTRAINT posts_scheduled_has_time CHECK (status <> 'scheduled' OR scheduled_at IS NOT NULL),
  CONSTRAINT posts_publishing_has_lease
    CHECK (status <> 'publishing' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CONSTRAINT posts_published_has_x_id
    CHECK (status <> 'published' OR (x_post_id IS NOT NULL AND published_at IS NOT NULL))
);

-- List pages, newest first, cursor (created_at, id). Not scheduled_at: it changes when a post
-- is rescheduled (rows would jump between pages while a client pages through) and it is NULL
-- for drafts; created_at never changes and id breaks ties, so the order is total and stable
-- under concurrent inserts (new rows land before the first page, never inside a later one).
-- One index per filter combination (workspace, + status, account, account + status): the
-- planner then never filters a long run of rows to fill a page. An account belongs to one
-- workspace, so the account indexes need no workspace column.
CREATE INDEX posts_page ON posts (workspace_id, created_at DESC, id DESC);
CREATE INDEX posts_page_status ON posts (workspace_id, status, created_at DESC, id DESC);
CREATE INDEX posts_page_account ON posts (account_id, created_at DESC, id DESC);
CREATE INDEX posts_page_account_status ON posts (account_id, status, created_at DESC, id DESC);
-- The calendar / upcoming view, cursor (scheduled_at, id), only what is still to go out.
CREATE INDEX posts_upcoming ON posts (workspace_id, scheduled_at, id)
  WHERE status IN ('scheduled', 'publishing');
-- Taken slots of an account (posts::queue) and its daily cap.
CREATE INDEX posts_account_upcoming ON posts (account_id, scheduled_at)
  WHERE status IN ('scheduled', 'publishing');
-- The scheduler's due scan: WHERE status = 'scheduled' AND coalesce(next_attempt_at,
-- scheduled_at) <= now() ORDER BY 1 ... FOR UPDATE SKIP LOCKED. Queries must use exactly this
-- expression for the index to apply. Posts waiting for a retry sort by their retry time, so a
-- backlog of deferred posts is not rescanned on every tick.
CREATE INDEX posts_due ON posts ((coalesce(next_attempt_at, scheduled_at)))
  WHERE status = 'scheduled';
-- Claims whose lease ran out (a crashed or stalled scheduler instance): reconcile, then retry.
CREATE INDEX posts_expired_leases ON posts (lease_expires_at) WHERE status = 'publishing';
-- X refuses the same text from the same account within about 24 h. The platform checks first:
-- same account and hash, time within 24 h of the new post's time.
CREATE INDEX posts_duplicates ON posts
  (account_id, normalized_text_hash, (coalesce(published_at, scheduled_at)))
  WHERE status IN ('scheduled', 'publishing', 'published');
-- Lookups by X's id (metrics, reconciliation) and at most one row per X post.
CREATE UNIQUE INDEX posts_x_post_id ON posts (x_post_id) WHERE x_post_id IS NOT NULL;
-- A retried create with the same key cannot insert a second post (the thread's head carries it).
CREATE UNIQUE INDEX posts_idempotency ON posts (workspace_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL AND thread_position = 0;
CREATE TRIGGER posts_touch BEFORE UPDATE ON posts
  FOR EACH ROW EXECUTE FUNCTION xmp_touch_updated_at();

-- The history of each post. Append-only, and without foreign keys like audit_log: a post
-- deleted with its account keeps its history (a cascade would also collide with the trigger).
CREATE TABLE post_events (
  id           bigserial PRIMARY KEY,
  post_id      uuid NOT NULL,
  workspace_id uuid NOT NULL,
  -- NULL for the scheduler.
  actor_id     uuid,
  kind         text NOT NULL
               CHECK (kind IN ('created', 'edited', 'rescheduled', 'claimed', 'attempt',
                               'published', 'failed', 'deferred', 'cancelled', 'deleted_on_x')),
  details      jsonb NOT NULL DEFAULT '{}'::jsonb,
  at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX post_events_post ON post_events (post_id, id);
CREATE INDEX post_events_workspace ON post_events (workspace_id, id DESC);
CREATE TRIGGER post_events_append_only BEFORE UPDATE OR DELETE ON post_events
  FOR EACH ROW EXECUTE FUNCTION xmp_forbid_change();
CREATE TRIGGER post_events_no_truncate BEFORE TRUNCATE ON post_events
  FOR EACH STATEMENT EXECUTE FUNCTION xmp_forbid_change();

-- Like / repost actions (and their undo), now or at a time, run by the scheduler.
CREATE TABLE engagements (
  id               uuid PRIMARY KEY,
  workspace_id     uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  account_id       uuid NOT NULL REFERENCES x_accounts (id) ON DELETE CASCADE,
  action           text NOT NULL CHECK (action IN ('like', 'unlike', 'repost', 'unrepost')),
  x_post_id        text NOT NULL CHECK (x_post_id ~ '^[0-9]{1,19}$'),
  status           text NOT NULL DEFAULT 'scheduled'
                   CHECK (status IN ('scheduled', 'running', 'done', 'failed', 'cancelled')),
  scheduled_at     timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  timestamptz,
  last_error       text,
  lease_owner      text,
  lease_expires_at timestamptz,
  created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  done_at          timestamptz,
  CONSTRAINT engagements_running_has_lease
    CHECK (status <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CONSTRAINT engagements_done_has_time CHECK (status <> 'done' OR done_at IS NOT NULL)
);
-- Same due rule as posts.
CREATE INDEX engagements_due ON engagements ((coalesce(next_attempt_at, scheduled_at)))
  WHERE status = 'scheduled';
CREATE INDEX engagements_expired_leases ON engagements (lease_expires_at)
  WHERE status = 'running';
CREATE INDEX engagements_page ON engagements (workspace_id, created_at DESC, id DESC);
CREATE INDEX engagements_account ON engagements (account_id, x_post_id);
CREATE TRIGGER engagements_touch BEFORE UPDATE ON engagements
  FOR EACH ROW EXECUTE FUNCTION xmp_touch_updated_at();

-- Idempotency-Key replay: the first request stores its response; a retry with the same key and
-- the same request gets it again, with a different request a 409 (request_hash differs). A row
-- whose response is still NULL is a request in flight.
CREATE TABLE idempotency_keys (
  workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  -- SHA-256 hex of method, route and body.
  request_hash    text NOT NULL,
  response_status smallint CHECK (response_status BETWEEN 100 AND 599),
  response_body   jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, user_id, key),
  CONSTRAINT idempotency_keys_response_whole
    CHECK ((response_status IS NULL) = (response_body IS NULL))
);
-- The sweeper deletes expired keys.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
