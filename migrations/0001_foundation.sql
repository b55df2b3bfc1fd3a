-- Foundation: helpers later migrations rely on.

-- Append-only tables (the audit log) attach this trigger to BEFORE UPDATE OR DELETE, so that
-- the database itself refuses to rewrite history, whatever the application does.
CREATE OR REPLACE FUNCTION xmp_forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Keeps updated_at honest without trusting every UPDATE statement to set it.
CREATE OR REPLACE FUNCTION xmp_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
