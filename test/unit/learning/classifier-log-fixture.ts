import { toLoggedInference, type InferenceRow } from '../../../src/store/inference-log.js';
import type { SqlSession } from '../../../src/store/sql-database.js';
import { SqlRowSink } from '../../../src/store/sql-row-sink.js';

/**
 * A kind of prompt the shipped classifier gets wrong: a timetable word problem (distances, speeds,
 * a stop, a second leg) has no cue word the features know, so the features-only model calls it
 * `simple`; it needs several steps of arithmetic, and the small local model's answers to it are
 * rated poor. `index` varies every number, so no two prompts are the same text.
 */
export const timetablePrompt = (index: number) =>
  `A train leaves at ${8 + (index % 5)}:${10 + index} and travels ${100 + 5 * index} km at ${50 + index} km/h, stops for ${10 + index} minutes, then covers another ${40 + index} km at ${30 + index} km/h. At what time does it arrive?`;

const PLACES = ['Peru', 'Chile', 'Kenya', 'Norway', 'Japan', 'Canada', 'Egypt', 'Spain', 'Ghana', 'Nepal', 'Iran', 'Cuba', 'Laos', 'Mali', 'Oman', 'Fiji', 'Chad', 'Togo', 'Iraq', 'Peru'];
/** A lookup the shipped classifier rightly calls `simple`, and whose local answers are rated good. */
export const lookupPrompt = (index: number) => `what is the capital of ${PLACES[index % PLACES.length]}?`;

export interface MisroutedLog {
  /** Timetable prompts routed simple, answered locally, rated poor by the caller: 0..poor-1. */
  poor: number;
  /** Lookups routed simple, answered locally, rated good. */
  confirmed: number;
}

/**
 * The log of a week where `simple`-routed local answers to timetable problems were rated poor
 * (feedback 0.2) and those to lookups good (0.9); one more timetable row stores only a hash of its
 * prompt (storage.log_text: hashed), which gives no example.
 */
export async function seedMisrouted(database: SqlSession, counts: MisroutedLog = { poor: 30, confirmed: 20 }, now: Date = new Date()): Promise<void> {
  const rows: InferenceRow[] = [];
  const feedback: string[] = [];
  const local = (requestId: string, text: string, hours: number): InferenceRow => ({ requestId, attempt: 1, tenant: 'acme', tier: 'simple', route: 'local', modelId: 'qwen-local', inputText: text, output: 'an answer', qualityScore: 0.9, outcome: 'answered', costUsd: 0, latencyMs: 200, createdAt: new Date(now.getTime() - hours * 3_600_000) });
  for (let index = 0; index < counts.poor; index += 1) {
    rows.push(local(`timetable-${index}`, timetablePrompt(index), index + 1));
    feedback.push(`('timetable-${index}', 'acme', 0.2)`);
  }
  for (let index = 0; index < counts.confirmed; index += 1) {
    rows.push(local(`lookup-${index}`, lookupPrompt(index), index + 1));
    feedback.push(`('lookup-${index}', 'acme', 0.9)`);
  }
  await new SqlRowSink(database).insert(rows.map((row) => toLoggedInference(row, { kind: 'full' })));
  await new SqlRowSink(database).insert([toLoggedInference(local('timetable-hashed', timetablePrompt(99), 2), { kind: 'hashed' })]);
  feedback.push(`('timetable-hashed', 'acme', 0.2)`);
  await database.exec(`insert into feedback (request_id, tenant, score) values ${feedback.join(', ')}`);
}
