-- Instants as the API writes them (RFC 3339, UTC, milliseconds), stored beside the timestamps
-- they come from. Formatting 500 instants for a page of 100 accounts costs PostgreSQL more than
-- the rest of the page together; stored, a list reads them like any text column.
--
-- to_char is STABLE only because some patterns depend on the locale or the session time zone;
-- this one converts to UTC first and uses no localised fields, so the wrapper is immutable in
-- fact, which generated columns require.
CREATE FUNCTION xmp_iso(ts timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

ALTER TABLE x_accounts
  ADD COLUMN created_iso text GENERATED ALWAYS AS (xmp_iso(created_at)) STORED,
  ADD COLUMN updated_iso text GENERATED ALWAYS AS (xmp_iso(updated_at)) STORED,
  ADD COLUMN token_expires_iso text GENERATED ALWAYS AS (xmp_iso(token_expires_at)) STORED,
  ADD COLUMN last_refreshed_iso text GENERATED ALWAYS AS (xmp_iso(last_refreshed_at)) STORED,
  ADD COLUMN last_error_iso text GENERATED ALWAYS AS (xmp_iso(last_error_at)) STORED;
