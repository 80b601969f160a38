import { toLoggedInference, type InferenceRow } from '../../../src/store/inference-log.js';
import type { SqlSession } from '../../../src/store/sql-database.js';
import { SqlRowSink } from '../../../src/store/sql-row-sink.js';

export const NOW = new Date();
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000);

/**
 * A synthetic week of medium-tier traffic whose low-scored local answers are poor: 40 local answers
 * scored 0.760, 0.765, … 0.955, rated by their callers bad below 0.85 (18 of them) and good above
 * (22); 4 more with shadow labels (0.96–0.99; the last disagrees with the premium answer); and 10
 * requests whose local answer (0.5) was escalated to a vendor at $0.01 each.
 */
export async function seed(database: SqlSession): Promise<void> {
  const rows: InferenceRow[] = [];
  const feedback: string[] = [];
  const shadow: string[] = [];
  const local = (requestId: string, score: number, outcome: string, hours: number): InferenceRow => ({ requestId, attempt: 1, tenant: 'acme', tier: 'medium', route: 'local', modelId: 'qwen-local', qualityScore: score, outcome, costUsd: 0, latencyMs: 300, createdAt: hoursAgo(hours) });
  for (let i = 0; i < 40; i += 1) {
    const score = (760 + 5 * i) / 1000;
    rows.push(local(`fb-${i}`, score, 'answered', i + 1));
    feedback.push(`('fb-${i}', 'acme', ${score < 0.85 ? 0.2 : 0.9})`);
  }
  [0.96, 0.97, 0.98, 0.99].forEach((score, i) => {
    rows.push(local(`sh-${i}`, score, 'answered', 2));
    shadow.push(`('sh-${i}', 'acme', 'medium', 'qwen-local', ${score}, 'claude-3-5-sonnet-latest', 0.9, 0.004, ${i === 3 ? 0.2 : 0.9})`);
  });
  for (let i = 0; i < 10; i += 1) {
    rows.push(local(`esc-${i}`, 0.5, 'escalated', 3));
    rows.push({ requestId: `esc-${i}`, attempt: 2, tenant: 'acme', tier: 'medium', route: 'openai', modelId: 'gpt-4o', qualityScore: 0.9, outcome: 'answered', costUsd: 0.01, latencyMs: 900, escalatedFrom: 'qwen-local', createdAt: hoursAgo(3) });
  }
  // Outside the 7-day window: a poor local answer with a bad rating that must not count.
  rows.push(local('old-0', 0.99, 'answered', 24 * 9));
  feedback.push(`('old-0', 'acme', 0)`);
  await new SqlRowSink(database).insert(rows.map((row) => toLoggedInference(row, { kind: 'full' })));
  await database.exec(`insert into feedback (request_id, tenant, score) values ${feedback.join(', ')}`);
  await database.exec(`insert into shadow_labels (request_id, tenant, tier, local_model, local_score, premium_model, premium_score, cost, agreement) values ${shadow.join(', ')}`);
}

export const THRESHOLDS = { simple: 0.75, medium: 0.75, high: 0.75, creative: 0.75, brand: 0.75 };
