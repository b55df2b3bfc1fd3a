-- Each account's list item (the JSON object GET /api/accounts answers for it), stored beside
-- the columns it is made of and rewritten by PostgreSQL whenever one of them changes. A page of
-- 100 accounts is then the concatenation of 100 stored strings: no per-row JSON building and no
-- instant formatting at read time (BENCHMARKS.md has the figures before and after).
--
-- The function is immutable in fact: every value is rendered by a type whose text form does not
-- depend on session settings (text, uuid, boolean, integer, jsonb), and instants go through
-- xmp_iso (UTC, fixed pattern; migration 0005). Generated columns require that.
CREATE FUNCTION xmp_account_item(
  id uuid, x_user_id text, username text, display_name text, label text, auth_kind text,
  scopes text, status text, last_error text, last_error_at timestamptz, timezone text,
  posting_slots jsonb, daily_post_cap integer, connected_by uuid, token_expires_at timestamptz,
  last_refreshed_at timestamptz, created_at timestamptz, updated_at timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '{"id":"' || id::text
  || '","xUserId":' || to_json(x_user_id)::text
  || ',"username":' || to_json(username)::text
  || ',"displayName":' || to_json(display_name)::text
  || ',"label":' || coalesce(to_json(label)::text, 'null')
  || ',"authKind":' || to_json(auth_kind)::text
  || ',"scopes":' || array_to_json(string_to_array(scopes, ' '))::text
  || ',"status":' || to_json(status)::text
  || ',"paused":' || (status = 'paused')::text
  || ',"lastError":' || coalesce(to_json(last_error)::text, 'null')
  || ',"lastErrorAt":' || coalesce(to_json(xmp_iso(last_error_at))::text, 'null')
  || ',"timezone":' || to_json(timezone)::text
  || ',"postingSlots":' || posting_slots::text
  || ',"dailyPostCap":' || coalesce(daily_post_cap::text, 'null')
  || ',"connectedBy":' || coalesce('"' || connected_by::text || '"', 'null')
  || ',"tokenExpiresAt":' || coalesce(to_json(xmp_iso(token_expires_at))::text, 'null')
  || ',"lastRefreshedAt":' || coalesce(to_json(xmp_iso(last_refreshed_at))::text, 'null')
  || ',"createdAt":' || to_json(xmp_iso(created_at))::text
  || ',"updatedAt":' || to_json(xmp_iso(updated_at))::text
  || '}';

ALTER TABLE x_accounts
  DROP COLUMN created_iso,
  DROP COLUMN updated_iso,
  DROP COLUMN token_expires_iso,
  DROP COLUMN last_refreshed_iso,
  DROP COLUMN last_error_iso,
  ADD COLUMN list_item text NOT NULL GENERATED ALWAYS AS (xmp_account_item(
    id, x_user_id, username, display_name, label, auth_kind, scopes, status, last_error,
    last_error_at, timezone, posting_slots, daily_post_cap, connected_by, token_expires_at,
    last_refreshed_at, created_at, updated_at)) STORED;
