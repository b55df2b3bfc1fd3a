-- The statements every request or every published post runs, as PL/pgSQL functions.
--
-- Spin's PostgreSQL client prepares every statement anew (parse, then bind, where PostgreSQL
-- plans it), so a request pays the planning of each of its statements every time: most of
-- PostgreSQL's share of a request (BENCHMARKS.md, issue 15). A PL/pgSQL function's statements
-- are planned once per connection and the plan kept, and the pool's `Clean` recycling (Spin's)
-- resets the session's settings but not its plan cache; calling the function is a statement
-- that costs almost nothing to plan. Each function answers exactly what the SQL it replaces
-- answered, column for column, and runs as one statement (its writes all or none).

-- The guard's one round trip (identity::users::authenticate): the user, whether the session was
-- revoked, the role where the request acts, and the freshness column (common::db).
CREATE FUNCTION xmp_authenticate(p_user uuid, p_session uuid, p_wanted bool, p_ws uuid)
  RETURNS TABLE (fresh bool, id uuid, email text, name text, timezone text,
                 default_workspace uuid, password_hash text, revoked bool, ws uuid, role text)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
    SELECT current_setting('transaction_deferrable') = 'off', u.id, u.email, u.name,
           u.timezone, u.default_workspace_id, u.password_hash,
           EXISTS (SELECT 1 FROM refresh_tokens r
                   WHERE r.family_id = p_session AND r.revoked_at IS NOT NULL),
           acting.ws, acting.role
    FROM (SELECT 1) AS one LEFT JOIN users u ON u.id = p_user
    LEFT JOIN LATERAL (
      SELECT m.workspace_id AS ws, m.role FROM memberships m
      WHERE p_wanted AND m.user_id = u.id
        AND (p_ws IS NULL OR m.workspace_id = p_ws)
      ORDER BY (m.workspace_id = u.default_workspace_id) DESC, m.created_at, m.workspace_id
      LIMIT 1) AS acting ON true;
END $$;

-- A post as GET /api/tweets/:id reads it (posts::store::read::get): its thread's rows in order,
-- the head's carrying the post's history as JSON text.
CREATE FUNCTION xmp_post_thread(p_ws uuid, p_id uuid)
  RETURNS TABLE (id uuid, content text, media_ids text, status text, x_post_id text,
                 "position" int8, item text, scheduled_at text, deleted_on_x bool,
                 account_id uuid, reply_to text, quote_of text, poll text, history text)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
    SELECT p.id, p.content, array_to_json(p.media_ids)::text, p.status, p.x_post_id,
           p.thread_position::int8,
           CASE WHEN p.thread_position = 0 THEN xmp_post_item(p, a.username)::text END,
           xmp_ms_iso(p.scheduled_at), p.deleted_on_x_at IS NOT NULL, p.account_id,
           p.reply_to, p.quote_of, p.poll::text,
           CASE WHEN p.thread_position = 0 THEN (
             SELECT coalesce(json_agg(json_build_object(
                      'kind', e.kind, 'details', e.details, 'actorId', e.actor_id,
                      'atMs', (extract(epoch FROM e.at) * 1000)::int8) ORDER BY e.id), '[]')::text
             FROM post_events e WHERE e.workspace_id = p_ws AND e.post_id = p_id) END
    FROM posts p LEFT JOIN x_accounts a ON a.id = p.account_id
    WHERE p.workspace_id = p_ws AND p.thread_id = p_id
    ORDER BY p.thread_position;
END $$;

-- One account as the API shows it (accounts::store::get; the scheduler reads one per post).
CREATE FUNCTION xmp_account(p_ws uuid, p_id uuid)
  RETURNS TABLE (id uuid, workspace_id uuid, x_user_id text, username text, display_name text,
                 label text, auth_kind text, scopes text, status text, last_error text,
                 timezone text, posting_slots text, daily_post_cap int8, connected_by uuid,
                 token_expires_ms int8, last_refreshed_ms int8, last_error_ms int8,
                 created_ms int8, updated_ms int8)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
    SELECT a.id, a.workspace_id, a.x_user_id, a.username, a.display_name, a.label,
           a.auth_kind, a.scopes, a.status, a.last_error, a.timezone, a.posting_slots::text,
           a.daily_post_cap::int8, a.connected_by,
           floor(extract(epoch FROM a.token_expires_at) * 1000)::int8,
           floor(extract(epoch FROM a.last_refreshed_at) * 1000)::int8,
           floor(extract(epoch FROM a.last_error_at) * 1000)::int8,
           floor(extract(epoch FROM a.created_at) * 1000)::int8,
           floor(extract(epoch FROM a.updated_at) * 1000)::int8
    FROM x_accounts a WHERE a.workspace_id = p_ws AND a.id = p_id;
END $$;

-- The parts of a thread the scheduler publishes (scheduler::publish::parts::load), each with the
-- instant of the last attempt at it (Unix milliseconds), if one was recorded.
CREATE FUNCTION xmp_thread_parts(p_head uuid)
  RETURNS TABLE (id uuid, "position" int8, content text, media text, reply_to text,
                 quote_of text, poll_options text, poll_minutes int8, x_post_id text,
                 last_attempt_ms int8)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
    SELECT p.id, p.thread_position::int8, p.content, array_to_json(p.media_ids)::text,
           p.reply_to, p.quote_of, (p.poll->'options')::text,
           (p.poll->>'durationMinutes')::int8, p.x_post_id,
           (SELECT (extract(epoch FROM max(e.at)) * 1000)::int8 FROM post_events e
            WHERE e.post_id = p_head AND e.kind = 'attempt'
              AND (e.details->>'part')::int8 = p.thread_position)
    FROM posts p WHERE p.thread_id = p_head ORDER BY p.thread_position;
END $$;

-- Records that the create of a part is about to be sent, under the lease: the post's attempts
-- so far, this one included (`n`), and an `attempt` event (`p_details` plus the attempt's
-- number) written at `sent_ms` (Unix milliseconds), the instant reconciliation looks on X from;
-- both NULL, and nothing written, when the lease was lost.
CREATE FUNCTION xmp_record_attempt(p_head uuid, p_owner text, p_details jsonb,
                                   OUT n int8, OUT sent_ms int8)
  LANGUAGE plpgsql AS $$
DECLARE
  ws uuid;
BEGIN
  UPDATE posts SET attempts = attempts + 1
  WHERE posts.id = p_head AND lease_owner = p_owner AND status = 'publishing'
  RETURNING attempts, workspace_id INTO n, ws;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  INSERT INTO post_events (post_id, workspace_id, kind, details)
  VALUES (p_head, ws, 'attempt', p_details || jsonb_build_object('attempt', n))
  RETURNING (extract(epoch FROM at) * 1000)::int8 INTO sent_ms;
END $$;

-- A part is on X as `p_x_id`: recorded with its `published` event, under the lease (the head's
-- row locked first); with `p_finish`, the post is also `published` and released. False, and
-- nothing written, when the lease was lost.
CREATE FUNCTION xmp_mark_part(p_head uuid, p_owner text, p_part uuid, p_x_id text,
                              p_at_ms int8, p_details jsonb, p_finish bool)
  RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
  ws uuid;
BEGIN
  SELECT workspace_id INTO ws FROM posts
  WHERE posts.id = p_head AND lease_owner = p_owner AND status = 'publishing'
  FOR UPDATE;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO post_events (post_id, workspace_id, kind, details)
  VALUES (p_head, ws, 'published', p_details);
  IF p_finish AND p_part = p_head THEN
    -- A post of one part: recorded and finished in one write of its row (every index of
    -- posts gets one new entry, not two).
    UPDATE posts SET x_post_id = p_x_id,
      published_at = timestamptz 'epoch' + p_at_ms * interval '1 millisecond',
      status = 'published', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
      next_attempt_at = NULL
    WHERE posts.id = p_head;
    RETURN true;
  END IF;
  UPDATE posts SET x_post_id = p_x_id,
    published_at = timestamptz 'epoch' + p_at_ms * interval '1 millisecond'
  WHERE posts.id = p_part;
  IF p_finish THEN
    PERFORM xmp_finish(p_head, p_owner);
  END IF;
  RETURN true;
END $$;

-- Every part is on X: the post is `published` and released, under the lease; false when the
-- lease was lost.
CREATE FUNCTION xmp_finish(p_head uuid, p_owner text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  UPDATE posts SET status = 'published', lease_owner = NULL, lease_expires_at = NULL,
    last_error = NULL, next_attempt_at = NULL
  WHERE posts.id = p_head AND lease_owner = p_owner AND status = 'publishing';
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  UPDATE posts SET status = 'published' WHERE thread_id = p_head AND thread_position > 0;
  RETURN true;
END $$;
