-- A page of GET /api/tweets (posts::store::list), as a function the route folds into the
-- guard's statement (as 0014's reads): the page's items as one JSON array, newest first, the
-- last item's cursor key and whether items follow it.
--
-- Its filters are optional, `p_x IS NULL OR …`, which only a plan made for the values at hand
-- turns into index conditions; a PL/pgSQL function would settle on a generic plan after five
-- calls. `plan_cache_mode = force_custom_plan`, set for the function's own statements, keeps
-- the plan made per call (as the plain SQL had it), while the statement's parse and analysis
-- stay cached on the connection.
CREATE FUNCTION xmp_post_page(p_ws uuid, p_status text, p_account uuid, p_from_ms int8,
                              p_to_ms int8, p_cursor_us int8, p_cursor_id uuid, p_limit int8)
  RETURNS TABLE (items text, last text, more bool)
  LANGUAGE plpgsql STABLE
  SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
    WITH found AS MATERIALIZED (
      SELECT p AS post, a.username, p.created_at, p.id
      FROM posts p LEFT JOIN x_accounts a ON a.id = p.account_id
      WHERE p.workspace_id = p_ws AND p.thread_position = 0
        AND (p_status IS NULL OR p.status = p_status)
        AND (p_account IS NULL OR p.account_id = p_account)
        AND (p_from_ms IS NULL OR p.scheduled_at >=
             timestamptz 'epoch' + p_from_ms * interval '1 millisecond')
        AND (p_to_ms IS NULL OR p.scheduled_at <
             timestamptz 'epoch' + p_to_ms * interval '1 millisecond')
        AND (p_cursor_us IS NULL OR (p.created_at, p.id) <
             (timestamptz 'epoch' + p_cursor_us * interval '1 microsecond', p_cursor_id))
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1),
    page AS (SELECT * FROM found ORDER BY created_at DESC, id DESC LIMIT p_limit),
    tail AS (SELECT created_at, id FROM page ORDER BY created_at, id LIMIT 1)
    SELECT '[' || coalesce((SELECT string_agg(xmp_post_item(page.post, page.username)::text, ','
                                              ORDER BY page.created_at DESC, page.id DESC)
                            FROM page), '') || ']',
           (SELECT (extract(epoch FROM tail.created_at) * 1000000)::int8 || '.' || tail.id
            FROM tail),
           (SELECT count(*) FROM found) > p_limit;
END $$;
ALTER FUNCTION xmp_post_page(uuid, text, uuid, int8, int8, int8, uuid, int8) ROWS 1;
