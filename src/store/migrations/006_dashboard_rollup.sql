-- The dashboard's hourly rollup of model_inferences (GET /admin/dashboard/data): the charts read a
-- few thousand rollup rows instead of scanning a million attempts. Runs unchanged on Supabase,
-- plain Postgres 16 and PGlite.
--
-- One row per (UTC hour, route, model, latency bin, final error). Counts are of attempts:
-- - requests: first attempts (every request has exactly one);
-- - served: attempts whose answer the client got (answered, cache-hit), one per served request;
-- - latency_bin: for served attempts with a latency, the bin of DASHBOARD_LATENCY_BINS_MS
--   (src/store/dashboard-rollup.ts) the attempt's own latency falls in, -1 otherwise: p95 is read
--   from this histogram, not from the rows;
-- - final_error: the error of a request's last attempt when the client got no answer ('' otherwise);
--   which errors count as failures is decided when reading, with the savings report's lists.
--   "Last" is the highest attempt of its request in the same insert: the log appends a request's
--   attempts together, so only a batch boundary falling inside a request can mis-mark one.
create table if not exists dashboard_rollup (
  bucket        timestamptz not null,
  route         text not null,
  model_id      text not null,
  latency_bin   smallint not null,
  final_error   text not null,
  attempts      bigint not null,
  requests      bigint not null,
  served        bigint not null,
  escalations   bigint not null,
  cost_usd      numeric not null,
  quality_sum   float8 not null,
  quality_count bigint not null,
  primary key (bucket, route, model_id, latency_bin, final_error)
);

-- The aggregation, as text, over any relation with model_inferences' columns: the trigger runs it
-- on its transition table, the backfill below on the whole log. The bin bounds (milliseconds) must
-- match DASHBOARD_LATENCY_BINS_MS.
create or replace function dashboard_rollup_insert_sql(source text)
returns text
language sql
immutable
as $$
  select format($query$
    insert into dashboard_rollup as r
    select date_trunc('hour', s.created_at at time zone 'UTC') at time zone 'UTC',
           coalesce(s.route, ''),
           coalesce(s.model_id, ''),
           case when s.outcome in ('answered', 'cache-hit') and s.latency_ms is not null
                then width_bucket(s.latency_ms, array[0, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000, 30000, 60000])
                else -1 end,
           case when s.error is not null and coalesce(s.outcome, '') not in ('answered', 'cache-hit') and s.attempt = last.attempt
                then s.error else '' end,
           count(*),
           count(*) filter (where s.attempt = 1),
           count(*) filter (where s.outcome in ('answered', 'cache-hit')),
           count(*) filter (where s.outcome = 'escalated'),
           coalesce(sum(s.cost), 0),
           coalesce(sum(s.quality_score) filter (where s.outcome in ('answered', 'cache-hit')), 0),
           count(s.quality_score) filter (where s.outcome in ('answered', 'cache-hit'))
      from %1$I s
      join (select request_id, max(attempt) as attempt from %1$I group by request_id) last using (request_id)
     group by 1, 2, 3, 4, 5
     -- In key order, so two instances' inserts lock shared rollup rows in one order: no deadlock.
     order by 1, 2, 3, 4, 5
    on conflict (bucket, route, model_id, latency_bin, final_error) do update
       set attempts = r.attempts + excluded.attempts,
           requests = r.requests + excluded.requests,
           served = r.served + excluded.served,
           escalations = r.escalations + excluded.escalations,
           cost_usd = r.cost_usd + excluded.cost_usd,
           quality_sum = r.quality_sum + excluded.quality_sum,
           quality_count = r.quality_count + excluded.quality_count
  $query$, source);
$$;

-- Statement-level, so one batched INSERT of the log costs one aggregation, not one per row. A
-- replay's "on conflict do nothing" leaves skipped rows out of the transition table: no double count.
create or replace function dashboard_rollup_on_insert()
returns trigger
language plpgsql
as $$
begin
  execute dashboard_rollup_insert_sql('dashboard_new_rows');
  return null;
end;
$$;

drop trigger if exists model_inferences_dashboard_rollup on model_inferences;
create trigger model_inferences_dashboard_rollup
  after insert on model_inferences
  referencing new table as dashboard_new_rows
  for each statement execute function dashboard_rollup_on_insert();

-- The rows logged before this migration.
do $$
begin
  execute dashboard_rollup_insert_sql('model_inferences');
end;
$$;
