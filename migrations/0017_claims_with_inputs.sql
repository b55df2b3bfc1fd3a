-- The scheduler's claims as functions that also answer what publishing each claimed post needs:
-- its account (as `xmp_account` answers it), the account's sealed credentials, and the thread's
-- parts with the instant of each part's last attempt. A batch of claims is one statement
-- instead of one, plus three reads per post (the account, its credentials, the parts), and the
-- claim's plan is kept by the connection instead of being made on every call.
--
-- `p_expired` takes over posts whose lease ran out; otherwise due posts are claimed, accounts
-- taking turns (the first due post of every account before the second of any). Either way the
-- rows come in the order an account's posts must be published: by due time, then id.

-- A thread's parts in order, as a JSON array, each with its last attempt (Unix milliseconds). It
-- replaces 0012's `xmp_thread_parts`, whose one reader (the tick, a statement per post) now reads
-- the parts with its claim. The attempt is found among the post's own events only: as 0012
-- wrote it (`kind = 'attempt'` beside `post_id`), a plan made while `post_events` was young
-- combined the kind's index with the post's, and read every attempt ever recorded on each call
-- (0.83 ms a call after 10,000 posts, growing with the table). A condition inside the
-- aggregate's FILTER can serve no index.
DROP FUNCTION xmp_thread_parts(uuid);
CREATE FUNCTION xmp_thread_parts_json(p_head uuid)
  RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (
    SELECT coalesce(json_agg(json_build_object(
             'id', p.id, 'position', p.thread_position, 'content', p.content,
             'media', array_to_json(p.media_ids), 'reply_to', p.reply_to,
             'quote_of', p.quote_of, 'poll_options', p.poll->'options',
             'poll_minutes', (p.poll->>'durationMinutes')::int8, 'x_post_id', p.x_post_id,
             'last_attempt_ms',
             (SELECT (extract(epoch FROM max(e.at) FILTER (
                        WHERE e.kind = 'attempt'
                          AND (e.details->>'part')::int8 = p.thread_position)) * 1000)::int8
              FROM post_events e WHERE e.post_id = p_head))
             ORDER BY p.thread_position), '[]')::text
    FROM posts p WHERE p.thread_id = p_head);
END $$;

CREATE FUNCTION xmp_claim(p_owner text, p_now_ms int8, p_lease_ms int8, p_limit int8,
                          p_expired bool)
  RETURNS TABLE (head_id uuid, head_workspace_id uuid, head_account_id uuid, attempts int8,
                 parts text, credentials text,
                 id uuid, workspace_id uuid, x_user_id text, username text, display_name text,
                 label text, auth_kind text, scopes text, status text, last_error text,
                 timezone text, posting_slots text, daily_post_cap int8, connected_by uuid,
                 token_expires_ms int8, last_refreshed_ms int8, last_error_ms int8,
                 created_ms int8, updated_ms int8)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now timestamptz := timestamptz 'epoch' + p_now_ms * interval '1 millisecond';
  v_until timestamptz := timestamptz 'epoch' + p_lease_ms * interval '1 millisecond';
  v_heads uuid[];
BEGIN
  IF p_expired THEN
    WITH picked AS (
      SELECT p.id FROM posts p
      WHERE p.status = 'publishing' AND p.lease_expires_at < v_now AND p.thread_position = 0
      ORDER BY p.lease_expires_at LIMIT p_limit
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE posts SET lease_owner = p_owner, lease_expires_at = v_until
      FROM picked WHERE posts.id = picked.id
      RETURNING posts.id
    )
    SELECT array_agg(claimed.id) INTO v_heads FROM claimed;
  ELSE
    WITH due AS (
      SELECT c.id, c.due_at,
             row_number() OVER (PARTITION BY c.account_id ORDER BY c.due_at, c.id) AS turn
      FROM (SELECT p.id, p.account_id, coalesce(p.next_attempt_at, p.scheduled_at) AS due_at
            FROM posts p
            WHERE p.status = 'scheduled'
              AND coalesce(p.next_attempt_at, p.scheduled_at) <= v_now
              AND p.thread_position = 0
            ORDER BY coalesce(p.next_attempt_at, p.scheduled_at)
            LIMIT p_limit * 20) c
    ), picked AS (
      -- Each candidate in turn order, locked through its primary key until p_limit are held:
      -- only those are locked, and no join can be planned as a scan of the whole table.
      SELECT l.id FROM (SELECT due.id FROM due ORDER BY due.turn, due.due_at, due.id) d,
        LATERAL (SELECT p.id FROM posts p WHERE p.id = d.id AND p.status = 'scheduled'
                 FOR UPDATE SKIP LOCKED) l
      LIMIT p_limit
    ), claimed AS (
      UPDATE posts SET status = 'publishing', lease_owner = p_owner, lease_expires_at = v_until
      FROM picked WHERE posts.id = picked.id
      RETURNING posts.id
    )
    SELECT array_agg(claimed.id) INTO v_heads FROM claimed;
  END IF;
  IF v_heads IS NULL THEN
    RETURN;
  END IF;
  -- The claim's writes are visible from here on (a new statement).
  RETURN QUERY
    SELECT p.id, p.workspace_id, p.account_id, p.attempts::int8,
           xmp_thread_parts_json(p.id), x.credentials, a.*
    FROM posts p
    LEFT JOIN x_accounts x ON x.workspace_id = p.workspace_id AND x.id = p.account_id
    LEFT JOIN LATERAL xmp_account(p.workspace_id, p.account_id) a ON true
    WHERE p.id = ANY (v_heads)
    ORDER BY coalesce(p.next_attempt_at, p.scheduled_at), p.id;
END $$;

-- Their row counts, so that no statement joining them is estimated at a thousand rows each.
ALTER FUNCTION xmp_account(uuid, uuid) ROWS 1;
ALTER FUNCTION xmp_claim(text, int8, int8, int8, bool) ROWS 10;

-- The last parts of the posts a batch published, recorded together when the batch's lanes are
-- done (one statement for the batch instead of one per post): each element is
-- `{"head", "part", "xId", "atMs", "details"}`, applied as `xmp_mark_part(…, finish)` applies one.
-- The heads whose lease was lost meanwhile, for which nothing was written.
CREATE FUNCTION xmp_mark_last_parts(p_owner text, p_marks jsonb)
  RETURNS SETOF uuid LANGUAGE plpgsql AS $$
DECLARE
  m jsonb;
BEGIN
  FOR m IN SELECT * FROM jsonb_array_elements(p_marks) LOOP
    IF NOT xmp_mark_part((m->>'head')::uuid, p_owner, (m->>'part')::uuid, m->>'xId',
                         (m->>'atMs')::int8, m->'details', true) THEN
      RETURN NEXT (m->>'head')::uuid;
    END IF;
  END LOOP;
END $$;

-- The attempts of a batch's lanes, recorded together (`scheduler::publish::Attempts`): each
-- element is `{"head", "details"}`, recorded as `xmp_record_attempt` records one; a row per
-- element, `n` and `sent_ms` NULL where the lease was lost.
CREATE FUNCTION xmp_record_attempts(p_owner text, p_attempts jsonb)
  RETURNS TABLE (head uuid, n int8, sent_ms int8) LANGUAGE plpgsql AS $$
DECLARE
  a jsonb;
BEGIN
  FOR a IN SELECT * FROM jsonb_array_elements(p_attempts) LOOP
    head := (a->>'head')::uuid;
    SELECT r.n, r.sent_ms INTO n, sent_ms FROM xmp_record_attempt(head, p_owner, a->'details') r;
    RETURN NEXT;
  END LOOP;
END $$;

-- A post and its history are read through the thread's and the post's own rows only, as the
-- parts' last attempts are above. With the workspace's condition beside them, the kept
-- (generic) plan, which assumes a workspace of average size, combined the workspace's index with
-- the thread's (posts) and with the post's (post_events), and so read every post and every event
-- of the workspace on each call: every post read and every new post's read-back, growing with
-- the workspace (0.83 ms for 9,310 posts). The workspace is still checked: on the thread's rows
-- after they are found (`OFFSET 0` keeps the condition out of the scan), and on the events
-- inside the aggregate's FILTER.
CREATE OR REPLACE FUNCTION xmp_post_thread(p_ws uuid, p_id uuid)
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
                      'atMs', (extract(epoch FROM e.at) * 1000)::int8) ORDER BY e.id)
                      FILTER (WHERE e.workspace_id = p_ws), '[]')::text
             FROM post_events e WHERE e.post_id = p_id) END
    FROM (SELECT * FROM posts t WHERE t.thread_id = p_id OFFSET 0) p
    LEFT JOIN x_accounts a ON a.id = p.account_id
    WHERE p.workspace_id = p_ws
    ORDER BY p.thread_position;
END $$;
-- Replacing a function resets what it declared: its row count again (migration 0014).
ALTER FUNCTION xmp_post_thread(uuid, uuid) ROWS 4;
