-- A new post written by one statement (ARCHITECTURE.md, "A new post in one statement"): its
-- parts, its `created` event and its audit row, then the post read back as
-- `xmp_post_thread` answers it. PL/pgSQL, so that each pooled connection keeps the plans (as in
-- 0012); each statement of a volatile function sees the rows the ones before it wrote.

-- One audit row (identity::audit::Entry::row): the JSON's keys are the columns.
CREATE FUNCTION xmp_audit(p_row jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_log (actor_id, workspace_id, action, target_type, target_id,
                         correlation_id, client_addr, user_agent, details)
  SELECT r.actor_id, r.workspace_id, r.action, r.target_type, r.target_id,
         r.correlation_id, r.client_addr, r.user_agent, coalesce(p_row->'details', '{}')
  FROM jsonb_to_record(p_row) AS r(actor_id uuid, workspace_id uuid, action text,
                                   target_type text, target_id text, correlation_id text,
                                   client_addr text, user_agent text);
END $$;

-- The parts of a thread (posts::store::NewParts): what the thread's parts share, and `parts`,
-- each part's id, position, text, media and duplicate key. Only position 0 carries the reply,
-- the quote and the poll. One statement, so a later part's reference to
-- the head is checked once the head is in.
CREATE FUNCTION xmp_insert_parts(p jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO posts (id, workspace_id, account_id, author_id, content, media_ids, reply_to,
                     quote_of, poll, thread_id, thread_position, status, scheduled_at, queued,
                     normalized_text_hash)
  SELECT x.id, t.workspace_id, t.account_id, t.author_id, x.content, x.media_ids,
         CASE WHEN x.position = 0 THEN t.reply_to END,
         CASE WHEN x.position = 0 THEN t.quote_of END,
         CASE WHEN x.position = 0 THEN nullif(p->'poll', 'null') END,
         t.thread_id, x.position, t.status,
         timestamptz 'epoch' + t.scheduled_ms * interval '1 millisecond', t.queued, x.hash
  FROM jsonb_to_record(p) AS t(workspace_id uuid, account_id uuid, author_id uuid,
                               thread_id uuid, status text, scheduled_ms int8, queued bool,
                               reply_to text, quote_of text),
       jsonb_to_recordset(p->'parts') AS x(id uuid, "position" int, content text,
                                           media_ids text[], hash text);
END $$;

-- POST /api/tweets (posts::store::create): the parts, the `created` event with `p_event` as
-- its details, the audit row, and the post read back, column for column as `xmp_post_thread`.
CREATE FUNCTION xmp_create_post(p jsonb, p_event jsonb, p_audit jsonb)
  RETURNS TABLE (id uuid, content text, media_ids text, status text, x_post_id text,
                 "position" int8, item text, scheduled_at text, deleted_on_x bool,
                 account_id uuid, reply_to text, quote_of text, poll text, history text)
  LANGUAGE plpgsql AS $$
DECLARE
  v_ws uuid := p->>'workspace_id';
  v_head uuid := p->>'thread_id';
BEGIN
  PERFORM xmp_insert_parts(p);
  INSERT INTO post_events (post_id, workspace_id, actor_id, kind, details)
  VALUES (v_head, v_ws, (p->>'author_id')::uuid, 'created', p_event);
  PERFORM xmp_audit(p_audit);
  RETURN QUERY SELECT * FROM xmp_post_thread(v_ws, v_head);
END $$;
ALTER FUNCTION xmp_create_post(jsonb, jsonb, jsonb) ROWS 4;
