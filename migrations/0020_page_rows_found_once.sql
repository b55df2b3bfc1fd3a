-- A page of the posts list finds its heads once (ARCHITECTURE.md, "The posts list is built by
-- PostgreSQL, per request"): the statements that pick a page's heads (0016) now answer where
-- each head lies (`ctid`) instead of its id, and the items are built from the rows found there
-- by a TID scan, where each head was found a second time through the primary key's index. At 1.2 M
-- posts that second descent read three index pages per head, 150 of a first page's 208 buffer
-- reads; the page costs PostgreSQL 6-12 % less CPU (BENCHMARKS.md, "A page's heads found
-- once"). A test pins both functions' volatility (tests/api/migrations.rs).
--
-- A row's `ctid` names the row version this call's snapshot saw: the function is STABLE, so
-- all its statements read with the snapshot of the statement that calls it, and no version
-- that snapshot can see is pruned while it runs. The TID scan checks visibility again, with
-- that same snapshot, so it yields exactly the rows the first statement chose.
--
-- `xmp_post_window`'s result type changes, so it is dropped first.
DROP FUNCTION xmp_post_window(uuid, text, uuid, int8, int8, timestamptz, uuid, int8);

CREATE FUNCTION xmp_post_window(p_ws uuid, p_status text, p_account uuid, p_from_ms int8,
                                p_to_ms int8, p_at timestamptz, p_id uuid, p_limit int8)
  RETURNS tid[] LANGUAGE plpgsql STABLE
  SET plan_cache_mode = force_custom_plan AS $$
BEGIN
  RETURN ARRAY(
    SELECT p.ctid FROM posts p
    WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (p_at, p_id)
      AND (p_status IS NULL OR p.status = p_status)
      AND (p_account IS NULL OR p.account_id = p_account)
      AND (p_from_ms IS NULL OR
           p.scheduled_at >= timestamptz 'epoch' + p_from_ms * interval '1 millisecond')
      AND (p_to_ms IS NULL OR
           p.scheduled_at < timestamptz 'epoch' + p_to_ms * interval '1 millisecond')
    ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
END $$;

CREATE OR REPLACE FUNCTION xmp_post_page(p_ws uuid, p_status text, p_account uuid, p_from_ms int8,
                              p_to_ms int8, p_cursor_us int8, p_cursor_id uuid, p_limit int8)
  RETURNS TABLE (items text, last text, more bool)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  v_at timestamptz := coalesce(timestamptz 'epoch' + p_cursor_us * interval '1 microsecond',
                               'infinity');
  v_id uuid := coalesce(p_cursor_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
  v_rows tid[];
BEGIN
  IF p_from_ms IS NOT NULL OR p_to_ms IS NOT NULL THEN
    v_rows := xmp_post_window(p_ws, p_status, p_account, p_from_ms, p_to_ms, v_at, v_id, p_limit);
  ELSIF p_status IS NULL AND p_account IS NULL THEN
    v_rows := ARRAY(
      SELECT p.ctid FROM posts p
      WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (v_at, v_id)
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
  ELSIF p_account IS NULL THEN
    v_rows := ARRAY(
      SELECT p.ctid FROM posts p
      WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (v_at, v_id)
        AND p.status = p_status
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
  ELSIF p_status IS NULL THEN
    v_rows := ARRAY(
      SELECT p.ctid FROM posts p
      WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (v_at, v_id)
        AND p.account_id = p_account
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
  ELSE
    v_rows := ARRAY(
      SELECT p.ctid FROM posts p
      WHERE p.workspace_id = p_ws AND p.thread_position = 0 AND (p.created_at, p.id) < (v_at, v_id)
        AND p.account_id = p_account AND p.status = p_status
      ORDER BY p.created_at DESC, p.id DESC LIMIT p_limit + 1);
  END IF;
  RETURN QUERY
    WITH page AS MATERIALIZED (
      SELECT k.n, p.created_at, p.id, xmp_post_item(p, a.username)::text AS item
      FROM unnest(v_rows[1:p_limit]) WITH ORDINALITY AS k(found_at, n)
      JOIN posts p ON p.ctid = k.found_at LEFT JOIN x_accounts a ON a.id = p.account_id)
    SELECT '[' || coalesce((SELECT string_agg(page.item, ',' ORDER BY page.n) FROM page), '')
             || ']',
           (SELECT (extract(epoch FROM page.created_at) * 1000000)::int8 || '.' || page.id
            FROM page ORDER BY page.n DESC LIMIT 1),
           cardinality(v_rows) > p_limit;
END $$;
ALTER FUNCTION xmp_post_page(uuid, text, uuid, int8, int8, int8, uuid, int8) ROWS 1;
