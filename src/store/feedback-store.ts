import type { SupabaseClient } from '@supabase/supabase-js';
import { applyTextMode, type InferenceLog, type TextLogMode } from './inference-log.js';
import type { SqlSession } from './sql-database.js';
import { SupabaseStoreError } from './supabase-store.js';

/** A caller's rating of one of its own requests, 0 (bad) .. 1 (good). */
export interface FeedbackInput {
  requestId: string;
  /** The tenant's name, as model_inferences.tenant holds it. */
  tenant: string;
  score: number;
  comment?: string;
}

export interface SavedFeedback {
  requestId: string;
  score: number;
  createdAt: Date;
}

export interface FeedbackStore {
  /**
   * Stores the rating, replacing the tenant's earlier one for that request; undefined when the
   * tenant made no request with that id.
   */
  save(feedback: FeedbackInput): Promise<SavedFeedback | undefined>;
}

interface FeedbackArguments {
  feedback_request_id: string;
  feedback_tenant: string;
  feedback_score: number;
  feedback_comment: string | null;
}

interface FeedbackResultRow {
  request_id: string;
  score: number | string;
  created_at: Date | string;
}

/** One call of the `record_feedback` function (migration 005): the check and the upsert in one statement. */
export type RecordFeedback = (args: FeedbackArguments) => Promise<FeedbackResultRow | undefined>;

export function sqlRecordFeedback(session: SqlSession): RecordFeedback {
  return async (args) => {
    const { rows } = await session.query<FeedbackResultRow>('select * from record_feedback($1, $2, $3, $4)', [
      args.feedback_request_id,
      args.feedback_tenant,
      args.feedback_score,
      args.feedback_comment,
    ]);
    return rows[0];
  };
}

/** The same function over PostgREST (`POST /rest/v1/rpc/record_feedback`). */
export function supabaseRecordFeedback(client: SupabaseClient): RecordFeedback {
  return async (args) => {
    const result = await client.rpc('record_feedback', args);
    if (result.error) {
      const { message, code, details, hint } = result.error;
      throw new SupabaseStoreError('rpc record_feedback', result.status, code || undefined, message, details ?? undefined, hint ?? undefined);
    }
    return ((result.data ?? []) as FeedbackResultRow[])[0];
  };
}

/**
 * Feedback checked against the inference log. The log writes in batches off the hot path, so a
 * request answered a moment ago may not be in the database yet: an id not found is looked up once
 * more after the log has flushed, and only then called unknown.
 */
export class LoggedFeedbackStore implements FeedbackStore {
  constructor(
    private readonly record: RecordFeedback,
    private readonly log: Pick<InferenceLog, 'flush'>,
    private readonly textMode: TextLogMode = { kind: 'full' },
  ) {}

  async save(feedback: FeedbackInput): Promise<SavedFeedback | undefined> {
    const args: FeedbackArguments = {
      feedback_request_id: withoutNul(feedback.requestId),
      feedback_tenant: withoutNul(feedback.tenant),
      feedback_score: feedback.score,
      // The comment is the caller's text like a prompt: storage.log_text applies to it too.
      feedback_comment: toNullable(applyTextMode(feedback.comment, this.textMode)),
    };
    let row = await this.record(args);
    if (row === undefined) {
      await this.log.flush();
      row = await this.record(args);
    }
    return row && { requestId: row.request_id, score: Number(row.score), createdAt: new Date(row.created_at) };
  }
}

/** Postgres text refuses NUL. */
function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '');
}

function toNullable(text: string | undefined): string | null {
  return text === undefined ? null : withoutNul(text);
}

/** A local answer compared with the premium model's answer to the same request (shadow sampling). */
export interface ShadowLabel {
  requestId: string;
  tenant?: string;
  tier?: string;
  localModel: string;
  localScore?: number;
  premiumModel: string;
  premiumScore?: number;
  /** What the premium call was charged against the budget. */
  costUsd?: number;
  /** Word overlap (F1, 0..1) of the two answers. */
  agreement?: number;
}

export interface ShadowLabelStore {
  /** Writes the label; a second label for the same request is ignored. */
  save(label: ShadowLabel): Promise<void>;
}

function shadowRecord(label: ShadowLabel): Record<string, unknown> {
  return {
    request_id: withoutNul(label.requestId),
    tenant: label.tenant === undefined ? null : withoutNul(label.tenant),
    tier: label.tier ?? null,
    local_model: label.localModel,
    local_score: finiteOrNull(label.localScore),
    premium_model: label.premiumModel,
    premium_score: finiteOrNull(label.premiumScore),
    cost: finiteOrNull(label.costUsd),
    agreement: finiteOrNull(label.agreement),
  };
}

const SHADOW_COLUMNS = ['request_id', 'tenant', 'tier', 'local_model', 'local_score', 'premium_model', 'premium_score', 'cost', 'agreement'] as const;

export class SqlShadowLabelStore implements ShadowLabelStore {
  constructor(private readonly session: SqlSession) {}

  async save(label: ShadowLabel): Promise<void> {
    const record = shadowRecord(label);
    await this.session.query(
      `insert into shadow_labels (${SHADOW_COLUMNS.join(', ')}) values (${SHADOW_COLUMNS.map((_, index) => `$${index + 1}`).join(', ')}) on conflict (request_id) do nothing`,
      SHADOW_COLUMNS.map((column) => record[column]),
    );
  }
}

export class SupabaseShadowLabelStore implements ShadowLabelStore {
  constructor(private readonly client: SupabaseClient) {}

  async save(label: ShadowLabel): Promise<void> {
    const result = await this.client.from('shadow_labels').upsert([shadowRecord(label)], { onConflict: 'request_id', ignoreDuplicates: true });
    if (result.error) {
      const { message, code, details, hint } = result.error;
      throw new SupabaseStoreError('insert into shadow_labels', result.status, code || undefined, message, details ?? undefined, hint ?? undefined);
    }
  }
}

function finiteOrNull(value: number | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
