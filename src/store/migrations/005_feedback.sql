-- Labels for the learning loop: what callers said about an answer (POST /v1/feedback) and, for a
-- sampled share of local answers, how the premium model's answer to the same request scored
-- (shadow labels). Runs unchanged on Supabase, plain Postgres and PGlite.

-- One rating per request and tenant: rating again replaces the earlier one. A request's attempts
-- share its request_id (model_inferences is unique on (request_id, attempt) only), so there is no
-- foreign key; record_feedback below checks that the request exists under the tenant instead.
create table if not exists feedback (
  id         bigserial primary key,
  request_id text not null,
  tenant     text not null,
  score      real not null check (score >= 0 and score <= 1),
  comment    text,
  created_at timestamptz not null default now(),
  unique (request_id, tenant)
);
create index if not exists feedback_created_at_idx on feedback (created_at);

-- Stores or replaces the tenant's rating of one of its own requests and returns it; returns no row
-- when the tenant made no request with that id. A function, so that supabase-js reaches it over
-- PostgREST (`POST /rest/v1/rpc/record_feedback`) with the same check-and-upsert, in one
-- transaction, as the SQL backends.
create or replace function record_feedback(
  feedback_request_id text,
  feedback_tenant text,
  feedback_score real,
  feedback_comment text default null
)
returns table (request_id text, score real, created_at timestamptz)
language sql
volatile
as $$
  insert into feedback as saved (request_id, tenant, score, comment, created_at)
  select feedback_request_id, feedback_tenant, feedback_score, feedback_comment, now()
   where exists (
     select 1 from model_inferences m
      where m.request_id = feedback_request_id and m.tenant = feedback_tenant
   )
  on conflict on constraint feedback_request_id_tenant_key do update
     set score = excluded.score, comment = excluded.comment, created_at = excluded.created_at
  returning saved.request_id, saved.score, saved.created_at;
$$;

-- A shadow label: a local answer that was also sent, in the background, to the premium model,
-- both scored by the same quality scorer. `agreement` is the word overlap (F1, 0..1) of the two
-- answers; `cost` is what the premium call was charged against the budget.
create table if not exists shadow_labels (
  id             bigserial primary key,
  request_id     text not null unique,
  tenant         text,
  tier           text,
  local_model    text not null,
  local_score    real,
  premium_model  text not null,
  premium_score  real,
  cost           numeric(12, 8),
  agreement      real,
  created_at     timestamptz not null default now()
);
create index if not exists shadow_labels_created_at_idx on shadow_labels (created_at);
