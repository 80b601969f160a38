import type { SqlSession } from '../src/store/sql-database.js';

/**
 * `attempts` synthetic attempts spread evenly over the `days` before `now`, in one generate_series
 * insert (the log's own trigger maintains the rollup as for any insert). Every tenth row is the
 * vendor attempt a local escalation led to; the rest mix local answers, cache hits, vendor answers
 * and a few failures, with seeded random latencies and quality scores.
 */
export async function insertSyntheticLog(session: SqlSession, attempts: number, now: Date, days = 30): Promise<void> {
  await session.query('select setseed(0.42)');
  await session.query(
    `insert into model_inferences (request_id, attempt, tenant, model_id, route, outcome, error, cost, latency_ms,
                                   quality_score, prompt_tokens, completion_tokens, escalated_from, tier, created_at)
     select 'syn-' || (i - (i % 10 = 0)::int), 1 + (i % 10 = 0)::int, 'tenant-' || (i / 10) % 7,
            case k when 6 then 'deepseek-chat' when 7 then 'deepseek-chat' when 8 then 'claude-3-5-sonnet-latest' when 0 then 'deepseek-chat' else 'local-llm' end,
            case k when 6 then 'cache' when 7 then 'deepseek' when 8 then 'anthropic' when 0 then 'deepseek' else 'local' end,
            case when k = 9 then 'escalated' when k = 6 then 'cache-hit' when k = 8 and i % 50 = 8 then 'failed' else 'answered' end,
            case when k = 8 and i % 50 = 8 then 'upstream-unavailable' end,
            case k when 7 then 0.00082 when 0 then 0.00082 when 8 then 0.021 else 0 end,
            case k when 6 then 5 else 100 + (random() * 2000)::int end,
            case when k in (1, 2, 3, 4, 5, 9) then 0.5 + random() / 2 end,
            1000, 500,
            case k when 0 then 'local-llm' end,
            'simple',
            $1::timestamptz - ($2 - i + (k = 0)::int) * ($3::float8 * interval '1 day' / $2) + (k = 0)::int * interval '800 milliseconds'
       from (select i, i % 10 as k from generate_series(1, $2::int) as i) numbered`,
    [now.toISOString(), attempts, days],
  );
}
