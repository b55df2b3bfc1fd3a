-- Where a draft goes, decided by PostgreSQL (ARCHITECTURE.md, "A new post in one statement"):
-- `xmp_place` resolves the account (the one named, else the user's active one), reads its
-- state and looks for the same text on it within 24 hours, in one statement; `xmp_create_placed`
-- runs it and, when the draft may go there, writes the post by `xmp_create_post` (0015).
-- So a draft costs the guard's statement and one more, where it cost two more, and a scheduled
-- post one more, where it cost three more (BENCHMARKS.md, "A new post placed by its own
-- statement").
--
-- Which refusal a caller sees is `posts::api::place`'s; this decides only whether the draft is
-- placed: an account was found, it is active when the post is scheduled, and no other post of it
-- holds the same text within 24 hours (checked only when `p_hash` is given, that is for a
-- scheduled post that did not ask to keep a duplicate, at an instant).

CREATE FUNCTION xmp_place(p_ws uuid, p_user uuid, p_named uuid, p_scheduled bool, p_at_ms int8,
                          p_hash text, p_except uuid)
  RETURNS TABLE (placed_account uuid, placed_status text, duplicate_of uuid, placed bool)
  LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
    SELECT a.id, a.status, d.id,
           a.id IS NOT NULL AND (NOT p_scheduled OR a.status = 'active') AND d.id IS NULL
    FROM (SELECT 1) AS one
    LEFT JOIN x_accounts a
      ON a.workspace_id = p_ws
     AND a.id = coalesce(p_named, (SELECT aa.account_id FROM active_accounts aa
                                   WHERE aa.workspace_id = p_ws AND aa.user_id = p_user))
    LEFT JOIN LATERAL (
      SELECT o.id FROM posts o
      WHERE p_scheduled AND a.status = 'active' AND p_hash IS NOT NULL AND p_at_ms IS NOT NULL
        AND o.account_id = a.id AND o.normalized_text_hash = p_hash
        AND o.status IN ('scheduled', 'publishing', 'published')
        AND coalesce(o.published_at, o.scheduled_at)
            BETWEEN timestamptz 'epoch' + (p_at_ms - 86400000) * interval '1 millisecond'
                AND timestamptz 'epoch' + (p_at_ms + 86400000) * interval '1 millisecond'
        AND (p_except IS NULL OR o.thread_id <> p_except)
      LIMIT 1) AS d ON true;
END $$;
ALTER FUNCTION xmp_place(uuid, uuid, uuid, bool, int8, text, uuid) ROWS 1;

-- POST /api/tweets (posts::store::create): the placement first, then, when placed, the post
-- written and read back by `xmp_create_post` (0015) with the account it found in the parts and
-- in the audit row's details (`accountId`). Not placed, it answers the placement alone, in one
-- row whose post columns are NULL, and writes nothing. `p` is what `xmp_insert_parts` takes,
-- its `account_id` the account named (or NULL).
CREATE FUNCTION xmp_create_placed(p jsonb, p_event jsonb, p_audit jsonb, p_user uuid,
                                  p_hash text)
  RETURNS TABLE (placed_account uuid, placed_status text, duplicate_of uuid, placed bool,
                 id uuid, content text, media_ids text, status text, x_post_id text,
                 "position" int8, item text, scheduled_at text, deleted_on_x bool,
                 account_id uuid, reply_to text, quote_of text, poll text, history text)
  LANGUAGE plpgsql AS $$
DECLARE
  v record;
BEGIN
  SELECT * INTO v FROM xmp_place((p->>'workspace_id')::uuid, p_user, (p->>'account_id')::uuid,
                                 p->>'status' = 'scheduled', (p->>'scheduled_ms')::int8,
                                 p_hash, NULL);
  IF NOT v.placed THEN
    RETURN QUERY SELECT v.placed_account, v.placed_status, v.duplicate_of, false,
      NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::int8, NULL::text,
      NULL::text, NULL::bool, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text;
    RETURN;
  END IF;
  RETURN QUERY SELECT v.placed_account, v.placed_status, v.duplicate_of, true, t.*
    FROM xmp_create_post(jsonb_set(p, '{account_id}', to_jsonb(v.placed_account)), p_event,
                         jsonb_set(p_audit, '{details,accountId}', to_jsonb(v.placed_account)))
         AS t;
END $$;
ALTER FUNCTION xmp_create_placed(jsonb, jsonb, jsonb, uuid, text) ROWS 4;
