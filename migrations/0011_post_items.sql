-- A post (its head row) as the API shows it, built by PostgreSQL: the posts list sends each
-- page's items as JSON text the component splices into its answer (decoding 18 columns per row
-- in the component cost more than the query), and a single post's head is read the same way,
-- so the two can never disagree. Instants are milliseconds, rounded as the API always rounded
-- them.
CREATE FUNCTION xmp_ms_iso(ts timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN to_char(date_trunc('milliseconds', (ts + interval '500 microseconds') AT TIME ZONE 'UTC'),
                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

CREATE FUNCTION xmp_post_item(p posts, username text) RETURNS json
  LANGUAGE sql STABLE PARALLEL SAFE
  RETURN json_build_object(
    'id', p.id, 'content', p.content, 'status', p.status,
    'scheduledAt', xmp_ms_iso(p.scheduled_at), 'publishedAt', xmp_ms_iso(p.published_at),
    'deletedOnXAt', xmp_ms_iso(p.deleted_on_x_at), 'xPostId', p.x_post_id,
    'account', CASE WHEN p.account_id IS NOT NULL
                    THEN json_build_object('id', p.account_id, 'username', username) END,
    'mediaIds', array_to_json(p.media_ids), 'replyTo', p.reply_to, 'quoteOf', p.quote_of,
    'poll', p.poll, 'queued', p.queued, 'attempts', p.attempts, 'lastError', p.last_error,
    'createdAt', xmp_ms_iso(p.created_at), 'updatedAt', xmp_ms_iso(p.updated_at));
