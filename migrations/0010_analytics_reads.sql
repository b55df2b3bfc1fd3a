-- Analytics reads at scale (issue 14): every report walks an index or a bounded set of rows.

-- The zone names PostgreSQL knows. `pg_timezone_names` reads every file of the tz database on
-- each use (about 100 ms); this copy answers "is this a zone?" by its primary key. After a
-- PostgreSQL upgrade brings a newer tz database: REFRESH MATERIALIZED VIEW time_zone_names.
CREATE MATERIALIZED VIEW time_zone_names AS SELECT name FROM pg_timezone_names;
CREATE UNIQUE INDEX time_zone_names_name ON time_zone_names (name);

-- Every collected post has its latest-values row from the moment it is registered (counters
-- NULL and `captured_at` NULL until its first capture), so the posts list is one walk of an
-- index in its sort order instead of a sort of every post in the range. And the hourly
-- rollups count the posts published in each hour (and how many of them were imported), so the
-- overview's "posts published" sums hours like its totals do instead of counting posts. A
-- statement trigger keeps both for every way a post is registered; rollup rows are upserted
-- in key order, as collection upserts them, so the two cannot deadlock.
ALTER TABLE post_latest ALTER COLUMN captured_at DROP NOT NULL,
  ALTER COLUMN engagements DROP NOT NULL;
INSERT INTO post_latest (post, workspace_id, account_id, published_at)
SELECT id, workspace_id, account_id, published_at FROM analytics_posts
ON CONFLICT (post) DO NOTHING;

ALTER TABLE account_hourly ADD COLUMN posts bigint NOT NULL DEFAULT 0,
  ADD COLUMN imported_posts bigint NOT NULL DEFAULT 0;
ALTER TABLE workspace_hourly ADD COLUMN posts bigint NOT NULL DEFAULT 0,
  ADD COLUMN imported_posts bigint NOT NULL DEFAULT 0;

-- Reports read an account's (or workspace's) hours in a range; the rows of one account are
-- spread over the whole table (every account's current hour is written together), so reading
-- 2,000 hours touched about as many pages. The keys now carry the counters: a range is one
-- index-only walk over a few dozen pages.
ALTER TABLE account_hourly DROP CONSTRAINT account_hourly_pkey,
  ADD CONSTRAINT account_hourly_pkey PRIMARY KEY (account_id, hour)
    INCLUDE (workspace_id, impressions, likes, reposts, quotes, replies, bookmarks, url_clicks,
             profile_clicks, engagements, posts, imported_posts);
ALTER TABLE workspace_hourly DROP CONSTRAINT workspace_hourly_pkey,
  ADD CONSTRAINT workspace_hourly_pkey PRIMARY KEY (workspace_id, hour)
    INCLUDE (impressions, likes, reposts, quotes, replies, bookmarks, url_clicks,
             profile_clicks, engagements, posts, imported_posts);

-- The posts registered so far: the trigger below counts every later one.
INSERT INTO account_hourly (account_id, hour, workspace_id, posts, imported_posts)
SELECT account_id, date_trunc('hour', published_at, 'UTC'), workspace_id, count(*),
       count(*) FILTER (WHERE imported)
FROM analytics_posts GROUP BY 1, 2, 3
ON CONFLICT (account_id, hour) DO UPDATE SET posts = excluded.posts,
  imported_posts = excluded.imported_posts;
INSERT INTO workspace_hourly (workspace_id, hour, posts, imported_posts)
SELECT workspace_id, date_trunc('hour', published_at, 'UTC'), count(*),
       count(*) FILTER (WHERE imported)
FROM analytics_posts GROUP BY 1, 2
ON CONFLICT (workspace_id, hour) DO UPDATE SET posts = excluded.posts,
  imported_posts = excluded.imported_posts;

CREATE FUNCTION xmp_post_registered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO post_latest (post, workspace_id, account_id, published_at)
  SELECT id, workspace_id, account_id, published_at FROM registered
  ON CONFLICT (post) DO NOTHING;
  INSERT INTO account_hourly AS h (account_id, hour, workspace_id, posts, imported_posts)
  SELECT account_id, date_trunc('hour', published_at, 'UTC'), workspace_id, count(*),
         count(*) FILTER (WHERE imported)
  FROM registered GROUP BY 1, 2, 3 ORDER BY 1, 2
  ON CONFLICT (account_id, hour) DO UPDATE SET posts = h.posts + excluded.posts,
    imported_posts = h.imported_posts + excluded.imported_posts;
  INSERT INTO workspace_hourly AS h (workspace_id, hour, posts, imported_posts)
  SELECT workspace_id, date_trunc('hour', published_at, 'UTC'), count(*),
         count(*) FILTER (WHERE imported)
  FROM registered GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (workspace_id, hour) DO UPDATE SET posts = h.posts + excluded.posts,
    imported_posts = h.imported_posts + excluded.imported_posts;
  RETURN NULL;
END $$;
CREATE TRIGGER analytics_posts_registered AFTER INSERT ON analytics_posts
  REFERENCING NEW TABLE AS registered FOR EACH STATEMENT
  EXECUTE FUNCTION xmp_post_registered();

-- The list's three orders (greatest first, ties by post), per workspace and per account; the
-- key expressions are the ones the list sorts and pages by.
DROP INDEX post_latest_impressions;
DROP INDEX post_latest_rate;
CREATE INDEX post_latest_ws_impressions
  ON post_latest (workspace_id, (coalesce(impressions, -1)::float8) DESC, post DESC);
CREATE INDEX post_latest_ws_rate
  ON post_latest (workspace_id, (coalesce(engagement_rate, -1)) DESC, post DESC);
CREATE INDEX post_latest_ws_date ON post_latest (workspace_id, published_at DESC, post DESC);
CREATE INDEX post_latest_acc_impressions
  ON post_latest (account_id, (coalesce(impressions, -1)::float8) DESC, post DESC);
CREATE INDEX post_latest_acc_rate
  ON post_latest (account_id, (coalesce(engagement_rate, -1)) DESC, post DESC);
CREATE INDEX post_latest_acc_date ON post_latest (account_id, published_at DESC, post DESC);

-- A post's series is found by X's id or the platform's id within the workspace.
CREATE INDEX analytics_posts_x_id ON analytics_posts (workspace_id, x_post_id);
CREATE INDEX analytics_posts_post_id ON analytics_posts (post_id) WHERE post_id IS NOT NULL;

-- Best times over one account or many: the measured posts in publication order.
CREATE INDEX analytics_posts_measured ON analytics_posts (workspace_id, published_at)
  INCLUDE (account_id, fixed_age_rate) WHERE fixed_age_rate IS NOT NULL;

-- Removing an account removes its analytics: its own rows go by cascade, and its share of the
-- workspace's hourly sums is taken out here (rows locked in key order, as collection upserts
-- them, so the two cannot deadlock).
CREATE FUNCTION xmp_account_rollups_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM workspace_hourly w
  WHERE w.workspace_id = OLD.workspace_id
    AND w.hour IN (SELECT a.hour FROM account_hourly a WHERE a.account_id = OLD.id)
  ORDER BY w.hour FOR UPDATE;
  UPDATE workspace_hourly w SET impressions = w.impressions - a.impressions,
    likes = w.likes - a.likes, reposts = w.reposts - a.reposts, quotes = w.quotes - a.quotes,
    replies = w.replies - a.replies, bookmarks = w.bookmarks - a.bookmarks,
    url_clicks = w.url_clicks - a.url_clicks, profile_clicks = w.profile_clicks - a.profile_clicks,
    engagements = w.engagements - a.engagements, posts = w.posts - a.posts,
    imported_posts = w.imported_posts - a.imported_posts
  FROM account_hourly a
  WHERE a.account_id = OLD.id AND w.workspace_id = OLD.workspace_id AND w.hour = a.hour;
  RETURN OLD;
END $$;
CREATE TRIGGER x_accounts_rollups_out BEFORE DELETE ON x_accounts
  FOR EACH ROW EXECUTE FUNCTION xmp_account_rollups_out();

-- The report cache. A workspace's reports change only when collection stores something or an
-- account is connected or removed (a zone is part of the request's key). Each such commit bumps the
-- workspace's version once, at commit (deferred triggers: the version row is locked only while
-- committing, so no lock is held while anything else is awaited); an answer is served from the
-- cache only while the version it was computed at is current.
-- No foreign key: the bump of a workspace being deleted must not fail its deletion.
CREATE TABLE analytics_versions (
  workspace_id uuid PRIMARY KEY,
  version      bigint NOT NULL
);

CREATE FUNCTION xmp_analytics_touch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ws uuid;
  flag text;
BEGIN
  IF TG_OP = 'DELETE' THEN ws := OLD.workspace_id; ELSE ws := NEW.workspace_id; END IF;
  -- Once per workspace and transaction (a capture batch touches hundreds of rows).
  flag := 'xmp.analytics_' || replace(ws::text, '-', '');
  IF current_setting(flag, true) = 't' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config(flag, 't', true);
  INSERT INTO analytics_versions AS v (workspace_id, version) VALUES (ws, 1)
  ON CONFLICT (workspace_id) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['analytics_posts', 'post_latest', 'account_hourly', 'workspace_hourly',
                           'account_snapshots', 'analytics_accounts', 'analytics_gaps'] LOOP
    EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
                    EXECUTE FUNCTION xmp_analytics_touch()', t || '_analytics_touch', t);
  END LOOP;
END $$;
CREATE CONSTRAINT TRIGGER x_accounts_analytics_touch AFTER INSERT OR DELETE ON x_accounts
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION xmp_analytics_touch();

-- Answers by (workspace, hash of the resolved request); unlogged: a crash empties it, which
-- only costs recomputation. The scheduler's tick removes answers older than a day.
CREATE UNLOGGED TABLE analytics_report_cache (
  workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  key          text NOT NULL,
  version      bigint NOT NULL,
  stored_at    timestamptz NOT NULL DEFAULT now(),
  body         text NOT NULL,
  PRIMARY KEY (workspace_id, key)
);
CREATE INDEX analytics_report_cache_stored ON analytics_report_cache (stored_at);
