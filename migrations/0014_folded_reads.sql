-- Reads that a route folds into the guard's statement (ARCHITECTURE.md, "A read folded into the
-- guard's statement"), as PL/pgSQL functions whose plans each connection keeps (as in 0012).
-- Each answers, column for column, what the SQL it replaces answered.

-- The caller's workspaces with their role there and their member count, oldest membership
-- first: GET /api/auth/profile and GET /api/workspaces (identity::workspaces::of_user).
CREATE FUNCTION xmp_user_workspaces(p_user uuid)
  RETURNS TABLE (id uuid, name text, role text, created_at text, members int8)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
    SELECT w.id, w.name, m.role, xmp_iso(w.created_at),
           (SELECT count(*) FROM memberships c WHERE c.workspace_id = w.id)
    FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
    WHERE m.user_id = p_user
    ORDER BY m.created_at, w.id;
END $$;

-- A page of GET /api/accounts (accounts::store::list::page): the page's stored list items as
-- one JSON array, newest first, the last row's cursor key, whether rows follow it, and the
-- user's active account. Both conditions stay index conditions in the generic plan a PL/pgSQL
-- function settles on: the status filter is its own statement, and a first page compares with
-- the greatest possible key instead of skipping the test. The items are joined in the order the
-- sorted `page` yields them, with no second sort: PostgreSQL documents that an aggregate fed by
-- a sorted subquery keeps its order as long as that query level has no join, and this one has
-- none (the other columns are subqueries of their own).
CREATE FUNCTION xmp_account_page(p_ws uuid, p_user uuid, p_status text, p_cursor_us int8,
                                 p_cursor_id uuid, p_limit int8)
  RETURNS TABLE (items text, last text, more bool, active uuid)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  v_us timestamptz := coalesce(timestamptz 'epoch' + p_cursor_us * interval '1 microsecond',
                               'infinity');
  v_id uuid := coalesce(p_cursor_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
BEGIN
  IF p_status IS NULL THEN
    RETURN QUERY
      WITH page AS MATERIALIZED (
        SELECT a.list_item, a.created_at, a.id FROM x_accounts a
        WHERE a.workspace_id = p_ws AND (a.created_at, a.id) < (v_us, v_id)
        ORDER BY a.created_at DESC, a.id DESC LIMIT p_limit),
      tail AS (SELECT created_at, id FROM page ORDER BY created_at, id LIMIT 1)
      SELECT '[' || coalesce(string_agg(page.list_item, ','), '') || ']',
             (SELECT (extract(epoch FROM tail.created_at) * 1000000)::int8 || '.' || tail.id
              FROM tail),
             EXISTS (SELECT 1 FROM x_accounts a, tail
                     WHERE a.workspace_id = p_ws
                       AND (a.created_at, a.id) < (tail.created_at, tail.id)),
             (SELECT s.account_id FROM active_accounts s
              WHERE s.workspace_id = p_ws AND s.user_id = p_user)
      FROM page;
  ELSE
    RETURN QUERY
      WITH page AS MATERIALIZED (
        SELECT a.list_item, a.created_at, a.id FROM x_accounts a
        WHERE a.workspace_id = p_ws AND a.status = p_status
          AND (a.created_at, a.id) < (v_us, v_id)
        ORDER BY a.created_at DESC, a.id DESC LIMIT p_limit),
      tail AS (SELECT created_at, id FROM page ORDER BY created_at, id LIMIT 1)
      SELECT '[' || coalesce(string_agg(page.list_item, ','), '') || ']',
             (SELECT (extract(epoch FROM tail.created_at) * 1000000)::int8 || '.' || tail.id
              FROM tail),
             EXISTS (SELECT 1 FROM x_accounts a, tail
                     WHERE a.workspace_id = p_ws AND a.status = p_status
                       AND (a.created_at, a.id) < (tail.created_at, tail.id)),
             (SELECT s.account_id FROM active_accounts s
              WHERE s.workspace_id = p_ws AND s.user_id = p_user)
      FROM page;
  END IF;
END $$;

-- How many rows each function answers, for the planner. Without it PostgreSQL assumes 1,000,
-- so the guard's statement with a read joined to it was estimated at a million rows, over
-- `jit_above_cost`, and compiled by JIT on every request (60 to 100 ms of PostgreSQL's CPU).
ALTER FUNCTION xmp_authenticate(uuid, uuid, bool, uuid) ROWS 1;
ALTER FUNCTION xmp_account_page(uuid, uuid, text, int8, uuid, int8) ROWS 1;
ALTER FUNCTION xmp_post_thread(uuid, uuid) ROWS 4;
ALTER FUNCTION xmp_user_workspaces(uuid) ROWS 4;
