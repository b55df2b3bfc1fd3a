-- A page of GET /api/tweets (posts::store::list), as a function the route folds into the
-- guard's statement (as 0014's reads): the page's items as one JSON array, newest first, the
-- last item's cursor key and whether items follow it.
--
-- The plain statement it replaces was parsed and planned on every request. Here the usual
-- pages run statements whose plans the connection keeps: one per combination of the status and
-- account filters, each of whose conditions is an index condition in a generic plan (a first
-- page compares with the greatest possible key instead of skipping the cursor's test). A page with a time window goes to `xmp_post_window`, planned per
-- call for the values at hand, since how many posts a window holds decides the plan. The page's
-- ids come first; its items are then built from them by one statement.

-- Up to p_limit + 1 ids of a windowed page, newest first; the conditions are those of the
-- generic statements below plus the window, each optional (`p_x IS NULL OR …`), which only a
-- plan made for the values at hand turns into index conditions: `plan_cache_mode` makes one per
-- call, while the statement's parse stays cached.
CREATE FUNCTION xmp_post_window(p_ws uuid, p_status text, p_account uuid, p_from_ms int8,
                                p_to_ms int8, p_at timestamptz, p_id uuid, p_limit int8)
  RETURNS uuid[] LANGUAGE plpgsql STABLE
  SET plan_cache_mode = force_custom_plan AS $$
BEGIN
  RETURN ARRAY(
    SELECT p.id FROM posts p
    WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (p_at, p_id)
      AND (p_status IS NULL OR p.status = p_status)
      AND (p_account IS NULL OR p.account_id = p_account)
      AND (p_from_ms IS NULL OR
           p.scheduled_at >= timestamptz 'epoch' + p_from_ms * interval '1 millisecond')
      AND (p_to_ms IS NULL OR
           p.scheduled_at < timestamptz 'epoch' + p_to_ms * interval '1 millisecond')
    ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
END $$;

CREATE FUNCTION xmp_post_page(p_ws uuid, p_status text, p_account uuid, p_from_ms int8,
                              p_to_ms int8, p_cursor_us int8, p_cursor_id uuid, p_limit int8)
  RETURNS TABLE (items text, last text, more bool)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  v_at timestamptz := coalesce(timestamptz 'epoch' + p_cursor_us * interval '1 microsecond',
                               'infinity');
  v_id uuid := coalesce(p_cursor_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
  v_ids uuid[];
BEGIN
  IF p_from_ms IS NOT NULL OR p_to_ms IS NOT NULL THEN
    v_ids := xmp_post_window(p_ws, p_status, p_account, p_from_ms, p_to_ms, v_at, v_id, p_limit);
  ELSIF p_status IS NULL AND p_account IS NULL THEN
    v_ids := ARRAY(
      SELECT p.id FROM posts p
      WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (v_at, v_id)
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
  ELSIF p_account IS NULL THEN
    v_ids := ARRAY(
      SELECT p.id FROM posts p
      WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (v_at, v_id)
        AND p.status = p_status
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
  ELSIF p_status IS NULL THEN
    v_ids := ARRAY(
      SELECT p.id FROM posts p
      WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (v_at, v_id)
        AND p.account_id = p_account
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
  ELSE
    v_ids := ARRAY(
      SELECT p.id FROM posts p
      WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (v_at, v_id)
        AND p.account_id = p_account AND p.status = p_status
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
  END IF;
  RETURN QUERY
    WITH page AS MATERIALIZED (
      SELECT k.n, p.created_at, p.id, xmp_post_item(p, a.username)::text AS item
      FROM unnest(v_ids[1:p_limit]) WITH ORDINALITY AS k(id, n)
      JOIN posts p ON p.id = k.id LEFT JOIN x_accounts a ON a.id = p.account_id)
    SELECT '[' || coalesce((SELECT string_agg(page.item, ',' ORDER BY page.n) FROM page), '')
             || ']',
           (SELECT (extract(epoch FROM page.created_at) * 1000000)::int8 || '.' || page.id
            FROM page ORDER BY page.n DESC LIMIT 1),
           cardinality(v_ids) > p_limit;
END $$;
ALTER FUNCTION xmp_post_page(uuid, text, uuid, int8, int8, int8, uuid, int8) ROWS 1;
