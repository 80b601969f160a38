import type { Response } from 'express';
import { SluiceError } from '../../../adapters/spec/index.js';
import { toErrorResponse } from '../error-response.js';

/**
 * 501 for a route that reads the inference log with SQL when the store has none (supabase-js):
 * the report and the dashboard's data say so the same way, naming what needs the SQL and the code.
 */
export function answerSqlStoreMissing(response: Response, what: string, code: string): void {
  const why = `${what} reads the inference log with SQL, and this store (supabase-js) has none: set DATABASE_URL to the database connection string`;
  const answer = toErrorResponse(new SluiceError('not-found', why, { code }));
  response.status(501).set(answer.headers).json(answer.body);
}
