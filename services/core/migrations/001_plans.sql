-- Plans: one row per provider <plan>, keyed by a UUIDv5 of (source, base_plan_id, plan_id).
-- Rows are never deleted by ingestion: a plan that was ever sold online stays searchable.
CREATE TABLE plansync.plans (
  id             uuid PRIMARY KEY,
  source         text        NOT NULL,
  base_plan_id   text        NOT NULL,
  plan_id        text        NOT NULL,
  title          text        NOT NULL,
  -- wall-clock times as the provider wrote them (it sends no zone) ...
  start_local    timestamp   NOT NULL,
  end_local      timestamp   NOT NULL,
  -- ... and the same instants resolved with the source's time zone, for range queries
  starts_at      timestamptz NOT NULL,
  ends_at        timestamptz NOT NULL,
  min_price      numeric(14, 2),
  max_price      numeric(14, 2),
  sell_mode      text        NOT NULL,
  ever_online    boolean     NOT NULL DEFAULT false,
  first_seen_at  timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL,
  -- observation time of the version currently stored in the searchable columns
  version_seen_at timestamptz NOT NULL,
  last_online_at timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Search reads only ever-online plans by start; the partial index keeps offline-only rows out of it.
CREATE INDEX plans_search_idx ON plansync.plans (starts_at, ends_at) WHERE ever_online;
CREATE INDEX plans_source_idx ON plansync.plans (source);

-- Per-source ingestion state: conditional-request validators, last outcome, counters.
CREATE TABLE plansync.sources (
  name             text PRIMARY KEY,
  etag             text,
  last_modified    text,
  content_hash     text,
  last_fetch_at    timestamptz,
  last_success_at  timestamptz,
  last_outcome     text,
  last_error       text,
  plans_seen       integer NOT NULL DEFAULT 0,
  plans_rejected   integer NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row; bumped in the same transaction as every write so caches can key on it.
CREATE TABLE plansync.dataset_version (
  id      boolean PRIMARY KEY DEFAULT true CHECK (id),
  version bigint NOT NULL
);
INSERT INTO plansync.dataset_version (id, version) VALUES (true, 1);
