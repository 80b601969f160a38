-- Two of migration 007's statements joined each insert's rows to report_requests, and with no
-- statistics (PGlite never analyzes) the planner could hash the whole of report_requests for every
-- batch: the trigger's cost grew with the log (100 ms a batch of 500 rows at 200k requests, 4x the
-- insert itself). Here both reach report_requests through its primary key, so a batch costs the
-- same however long the log is. Same results, row for row.

-- Each attempt looks its request's first_at up by key.
create or replace function report_attempts_insert_sql(source text)
returns text
language sql
immutable
as $$
  select format($query$
    insert into report_attempt_rollup as r
    select date_bin('15 minutes', s.first_at, timestamptz '2000-01-01 00:00:00+00'), coalesce(s.tenant, ''), coalesce(s.model_id, ''),
           coalesce(sum(s.cost), 0), count(*),
           count(*) filter (where s.outcome in ('answered', 'cache-hit')),
           count(*) filter (where s.attempt = 1)
      from (select a.*, (select q.first_at from report_requests q where q.request_id = a.request_id) as first_at
              from (select request_id, attempt, tenant, model_id, cost, outcome from %1$I
                    union all
                    -- Attempts logged before their request's first (a replayed spill file): counted once it comes.
                    select m.request_id, m.attempt, m.tenant, m.model_id, m.cost, m.outcome
                      from model_inferences m
                      join %1$I n on n.request_id = m.request_id and n.attempt = 1
                     where m.attempt > 1
                       and not exists (select 1 from %1$I x where x.request_id = m.request_id and x.attempt = m.attempt)) a
             -- Keeps the lookup a per-row subplan, evaluated once, not pulled up into a join.
             offset 0) s
     where s.first_at is not null
     group by 1, 2, 3
     order by 1, 2, 3
    on conflict (bucket, tenant, model_id) do update
       set cost_usd = r.cost_usd + excluded.cost_usd,
           attempts = r.attempts + excluded.attempts,
           answers = r.answers + excluded.answers,
           first_attempts = r.first_attempts + excluded.first_attempts
  $query$, source);
$$;

-- The requests of the batch as one array: an index scan of report_requests' key, whatever the
-- planner guesses about the batch's size.
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
     where q.first_at is not null and q.request_id = any (array(select distinct request_id from %1$I))
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
