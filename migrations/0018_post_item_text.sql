-- A post's head as the API shows it (`xmp_post_item`, migration 0011), now written out as text
-- by concatenation instead of `json_build_object`: the same keys in the same order, the same
-- values, without the spaces `json_build_object` puts around each colon.
--
-- `json_build_object` looks up the JSON category and output function of each of its 34
-- arguments on every call, so a 50-post page of the list paid 1,700 such look-ups. Written
-- out, the page's statement costs PostgreSQL 8 to 25 % less CPU (BENCHMARKS.md, "Where an
-- authenticated request's time goes, 2026-12-02"). Strings go through `to_json`, which escapes
-- as `json_build_object` did; `status`, the X ids and the instants are constrained to
-- characters that need no escaping (0004's CHECKs, `xmp_ms_iso`). Every nullable value is
-- wrapped, since one NULL would make the whole text NULL.
--
-- The result is `text`, not `json`: a cast to `json` would parse the text again, and every
-- caller (`xmp_post_thread`, `xmp_post_page`, PL/pgSQL, so nothing else depends on it) reads
-- the item as text. Changing the result type needs the function dropped first.
DROP FUNCTION xmp_post_item(posts, text);
CREATE FUNCTION xmp_post_item(p posts, username text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  RETURN '{"id":"' || p.id || '","content":' || to_json(p.content)::text
    || ',"status":"' || p.status
    || '","scheduledAt":' || coalesce('"' || xmp_ms_iso(p.scheduled_at) || '"', 'null')
    || ',"publishedAt":' || coalesce('"' || xmp_ms_iso(p.published_at) || '"', 'null')
    || ',"deletedOnXAt":' || coalesce('"' || xmp_ms_iso(p.deleted_on_x_at) || '"', 'null')
    || ',"xPostId":' || coalesce('"' || p.x_post_id || '"', 'null')
    || ',"account":' || CASE WHEN p.account_id IS NULL THEN 'null'
                             ELSE '{"id":"' || p.account_id || '","username":'
                                  || coalesce(to_json(username)::text, 'null') || '}' END
    || ',"mediaIds":' || array_to_json(p.media_ids)::text
    || ',"replyTo":' || coalesce('"' || p.reply_to || '"', 'null')
    || ',"quoteOf":' || coalesce('"' || p.quote_of || '"', 'null')
    || ',"poll":' || coalesce(p.poll::text, 'null')
    || ',"queued":' || p.queued::text || ',"attempts":' || p.attempts
    || ',"lastError":' || coalesce(to_json(p.last_error)::text, 'null')
    || ',"createdAt":"' || xmp_ms_iso(p.created_at)
    || '","updatedAt":"' || xmp_ms_iso(p.updated_at) || '"}';
