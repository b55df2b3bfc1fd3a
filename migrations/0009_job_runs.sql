-- Operations (issue 17): one row per scheduler tick, so that GET /api/metrics can say whether
-- the scheduler runs and succeeds (each request is a fresh instance: nothing can be counted in
-- memory). Written by common::scheduler::tick; rows older than 7 days are removed by the tick
-- that writes the next one.
CREATE TABLE job_runs (
  id          bigserial PRIMARY KEY,
  job         text NOT NULL CHECK (job IN ('scheduler_tick')),
  -- The tick's lease owner (unique per tick).
  owner       text NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  outcome     text NOT NULL CHECK (outcome IN ('ok', 'error')),
  -- The AppError code of a failed tick (its cause is in the log under the same fingerprint).
  error_code  text,
  -- The tick's report (claimed, published, deferred, failed, tokens, ...), camelCase JSON.
  report      jsonb NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT job_runs_error_has_code CHECK ((outcome = 'error') = (error_code IS NOT NULL)),
  CONSTRAINT job_runs_ordered CHECK (finished_at >= started_at)
);
CREATE INDEX job_runs_recent ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_last_success ON job_runs (job, finished_at DESC) WHERE outcome = 'ok';

-- The metrics' counters over post history (attempts, failures, retries, deferrals) read only
-- the kinds they count.
CREATE INDEX post_events_kind ON post_events (kind, at);
-- Publish lag over the last hour: published thread heads by publication time.
CREATE INDEX posts_published_heads ON posts (published_at)
  WHERE thread_position = 0 AND published_at IS NOT NULL;
