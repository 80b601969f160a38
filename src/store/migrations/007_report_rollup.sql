-- What the savings report (src/learning/savings-report.ts) reads instead of scanning every attempt
-- of the period: one row per request (for the latency percentiles), and per-15-minute sums of
-- those rows and of the attempts by tenant and model, all kept up to date by a statement-level
-- trigger on model_inferences (each upsert in key order, so concurrent instances lock shared
-- rows in one order). Exact, not sampled: a request's row is a merge (sums, least, greatest, the
-- highest attempt's fields) that gives the same result however its attempts are split across inserts. Runs unchanged on Supabase, plain Postgres 16 and PGlite.

-- A request as the report defines it: it belongs to the period its first attempt started in
-- (first_at; null until attempt 1 is logged, and such a request is in no report), and its last
-- attempt says what it was.
create table if not exists report_requests (
  request_id        text primary key,
  first_at          timestamptz,
  -- The first attempt's; a request's attempts all carry its caller's key.
  tenant            text,
  started_at        timestamptz not null,
  -- The latest end of an attempt (its start plus its latency): the request's latency runs from started_at to here.
  ended_at          timestamptz not null,
  has_latency       boolean not null,
  -- From started_at to ended_at, null without has_latency: kept here so the report need not compute it per row.
  latency_ms        float8,
  cost_usd          numeric not null,
  last_attempt      integer not null,
  model_id          text,
  route             text,
  outcome           text,
  error             text,
  routing_reason    text,
  prompt_tokens     integer,
  completion_tokens integer,
  quality_score     real
);
create index if not exists report_requests_first_at_idx on report_requests (first_at);

-- Attempts by the quarter hour their request's first attempt started in (every time zone's
-- midnight falls on one), the attempt's tenant and model ('' for none): the report's top lists.
create table if not exists report_attempt_rollup (
  bucket         timestamptz not null,
  tenant         text not null,
  model_id       text not null,
  cost_usd       numeric not null,
  attempts       bigint not null,
  answers        bigint not null,
  first_attempts bigint not null,
  primary key (bucket, tenant, model_id)
);

-- The report's sums by the quarter hour of the request's first attempt and what its last attempt
-- was (the columns the report's definitions look at; '' for none), over report_requests. A merge
-- that changes a request's row takes its old contribution out and puts the new one in.
create table if not exists report_totals_rollup (
  bucket                 timestamptz not null,
  route                  text not null,
  model_id               text not null,
  is_passthrough         boolean not null,
  is_served              boolean not null,
  error                  text not null,
  has_prompt_tokens      boolean not null,
  has_completion_tokens  boolean not null,
  requests               bigint not null,
  cost_usd               numeric not null,
  prompt_tokens          bigint not null,
  completion_tokens      bigint not null,
  quality_sum            float8 not null,
  quality_count          bigint not null,
  primary key (bucket, route, model_id, is_passthrough, is_served, error, has_prompt_tokens, has_completion_tokens)
);

-- The upserts, as text, over any relation with model_inferences' columns: the trigger runs
-- them on its transition table, the backfill below on the whole log. The second reads first_at
-- from report_requests, so it runs after the first.
create or replace function report_requests_insert_sql(source text)
returns text
language sql
immutable
as $$
  select format($query$
    insert into report_requests as r (request_id, first_at, tenant, started_at, ended_at, has_latency, latency_ms, cost_usd,
                                      last_attempt, model_id, route, outcome, error, routing_reason, prompt_tokens, completion_tokens, quality_score)
    select b.request_id, b.first_at, b.tenant, b.started_at, b.ended_at, b.has_latency,
           case when b.has_latency then extract(epoch from b.ended_at - b.started_at) * 1000 end, b.cost_usd,
           l.attempt, l.model_id, l.route, l.outcome, l.error, l.routing_reason, l.prompt_tokens, l.completion_tokens, l.quality_score
      from (select request_id,
                   max(created_at) filter (where attempt = 1) as first_at,
                   max(tenant) filter (where attempt = 1) as tenant,
                   min(created_at) as started_at,
                   max(created_at + coalesce(latency_ms, 0) * interval '1 millisecond') as ended_at,
                   count(latency_ms) > 0 as has_latency,
                   coalesce(sum(cost), 0) as cost_usd
              from %1$I group by request_id) b
      join (select distinct on (request_id) * from %1$I order by request_id, attempt desc) l using (request_id)
     order by b.request_id
    on conflict (request_id) do update
       set first_at = coalesce(r.first_at, excluded.first_at),
           tenant = case when r.first_at is null then excluded.tenant else r.tenant end,
           started_at = least(r.started_at, excluded.started_at),
           ended_at = greatest(r.ended_at, excluded.ended_at),
           has_latency = r.has_latency or excluded.has_latency,
           latency_ms = case when r.has_latency or excluded.has_latency
                             then extract(epoch from greatest(r.ended_at, excluded.ended_at) - least(r.started_at, excluded.started_at)) * 1000 end,
           cost_usd = r.cost_usd + excluded.cost_usd,
           last_attempt = greatest(r.last_attempt, excluded.last_attempt),
           model_id = case when excluded.last_attempt > r.last_attempt then excluded.model_id else r.model_id end,
           route = case when excluded.last_attempt > r.last_attempt then excluded.route else r.route end,
           outcome = case when excluded.last_attempt > r.last_attempt then excluded.outcome else r.outcome end,
           error = case when excluded.last_attempt > r.last_attempt then excluded.error else r.error end,
           routing_reason = case when excluded.last_attempt > r.last_attempt then excluded.routing_reason else r.routing_reason end,
           prompt_tokens = case when excluded.last_attempt > r.last_attempt then excluded.prompt_tokens else r.prompt_tokens end,
           completion_tokens = case when excluded.last_attempt > r.last_attempt then excluded.completion_tokens else r.completion_tokens end,
           quality_score = case when excluded.last_attempt > r.last_attempt then excluded.quality_score else r.quality_score end
  $query$, source);
$$;

create or replace function report_attempts_insert_sql(source text)
returns text
language sql
immutable
as $$
  select format($query$
    insert into report_attempt_rollup as r
    select date_bin('15 minutes', q.first_at, timestamptz '2000-01-01 00:00:00+00'), coalesce(s.tenant, ''), coalesce(s.model_id, ''),
           coalesce(sum(s.cost), 0), count(*),
           count(*) filter (where s.outcome in ('answered', 'cache-hit')),
           count(*) filter (where s.attempt = 1)
      from (select request_id, attempt, tenant, model_id, cost, outcome from %1$I
            union all
            -- Attempts logged before their request's first (a replayed spill file): counted once it comes.
            select m.request_id, m.attempt, m.tenant, m.model_id, m.cost, m.outcome
              from model_inferences m
              join %1$I n on n.request_id = m.request_id and n.attempt = 1
             where m.attempt > 1
               and not exists (select 1 from %1$I x where x.request_id = m.request_id and x.attempt = m.attempt)) s
      join report_requests q using (request_id)
     where q.first_at is not null
     group by 1, 2, 3
     order by 1, 2, 3
    on conflict (bucket, tenant, model_id) do update
       set cost_usd = r.cost_usd + excluded.cost_usd,
           attempts = r.attempts + excluded.attempts,
           answers = r.answers + excluded.answers,
           first_attempts = r.first_attempts + excluded.first_attempts
  $query$, source);
$$;

-- Adds (sign 1) or takes out (sign -1) the report_requests rows of the requests in `source`.
create or replace function report_totals_insert_sql(source text, sign integer)
returns text
language sql
immutable
as $$
  select format($query$
    insert into report_totals_rollup as t
    select date_bin('15 minutes', q.first_at, timestamptz '2000-01-01 00:00:00+00'), coalesce(q.route, ''), coalesce(q.model_id, ''),
           coalesce(q.routing_reason, '') like 'passthrough %%', coalesce(q.outcome in ('answered', 'cache-hit'), false), coalesce(q.error, ''),
           q.prompt_tokens is not null, q.completion_tokens is not null,
           %2$s * count(*), %2$s * sum(q.cost_usd), %2$s * coalesce(sum(q.prompt_tokens), 0), %2$s * coalesce(sum(q.completion_tokens), 0),
           %2$s * coalesce(sum(q.quality_score::float8), 0), %2$s * count(q.quality_score)
      from report_requests q
     where q.first_at is not null and q.request_id in (select request_id from %1$I)
     group by 1, 2, 3, 4, 5, 6, 7, 8
     order by 1, 2, 3, 4, 5, 6, 7, 8
    on conflict (bucket, route, model_id, is_passthrough, is_served, error, has_prompt_tokens, has_completion_tokens) do update
       set requests = t.requests + excluded.requests,
           cost_usd = t.cost_usd + excluded.cost_usd,
           prompt_tokens = t.prompt_tokens + excluded.prompt_tokens,
           completion_tokens = t.completion_tokens + excluded.completion_tokens,
           quality_sum = t.quality_sum + excluded.quality_sum,
           quality_count = t.quality_count + excluded.quality_count
  $query$, source, sign);
$$;

create or replace function report_rollup_on_insert()
returns trigger
language plpgsql
as $$
begin
  execute report_totals_insert_sql('report_new_rows', -1);
  execute report_requests_insert_sql('report_new_rows');
  execute report_totals_insert_sql('report_new_rows', 1);
  execute report_attempts_insert_sql('report_new_rows');
  return null;
end;
$$;

drop trigger if exists model_inferences_report_rollup on model_inferences;
create trigger model_inferences_report_rollup
  after insert on model_inferences
  referencing new table as report_new_rows
  for each statement execute function report_rollup_on_insert();

-- The rows logged before this migration.
do $$
begin
  execute report_requests_insert_sql('model_inferences');
  execute report_totals_insert_sql('model_inferences', 1);
  execute report_attempts_insert_sql('model_inferences');
end;
$$;
