-- The plan's two tables. Plain SQL that runs unchanged on Supabase, plain Postgres (with pgvector)
-- and PGlite; gen_random_uuid() is core since Postgres 13, so no pgcrypto.
create extension if not exists vector;

create table if not exists model_inferences (
  id                uuid primary key default gen_random_uuid(),
  model_id          text,
  input_text        text,
  output            text,
  quality_score     real,
  cost              numeric(12, 8),
  latency_ms        integer,
  routing_reason    text,
  created_at        timestamptz not null default now(),
  request_id        text not null,
  tenant            text,
  tier              text,
  route             text,
  cache_status      text,
  prompt_tokens     integer,
  completion_tokens integer,
  escalated_from    text,
  error             text,
  is_estimated      boolean not null default false,
  attempt           integer not null default 1
);

-- A replayed spill file re-inserts rows that may already be there: (request_id, attempt) makes
-- that a no-op through "on conflict do nothing".
create unique index if not exists model_inferences_request_attempt_key
  on model_inferences (request_id, attempt);
create index if not exists model_inferences_created_at_idx on model_inferences (created_at);

create table if not exists embeddings (
  id         bigserial primary key,
  content    text not null,
  embedding  vector(384) not null,
  model_id   text,
  metadata   jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

create index if not exists embeddings_embedding_idx
  on embeddings using ivfflat (embedding vector_cosine_ops) with (lists = 100);
