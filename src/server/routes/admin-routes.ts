import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { SluiceError } from '../../../adapters/spec/index.js';
import { KeyRequestError, type KeyStore } from '../../auth/key-store.js';
import type { PurgeFilter } from '../../cache/cache-store.js';
import type { ResponseCache } from '../../cache/response-cache.js';
import { moderationActions } from '../../config/guardrail-schema.js';
import { passthroughGrant } from '../../config/schema.js';
import { OptimizeRefusal, type OptimizeCommand, type OptimizeRequests } from '../../learning/optimizer-control.js';
import { renderReport, REPORT_CONTENT_TYPES, REPORT_FORMATS } from '../../learning/report-format.js';
import { REPORT_PERIODS, type SavingsReports } from '../../learning/savings-report.js';
import { bearerToken } from '../auth-middleware.js';
import { validate } from '../validate.js';
import { answerSqlStoreMissing } from './sql-store-missing.js';

const createKeySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of letters, digits, . _ or -'),
  allowed_models: z.array(z.string().min(1)).optional(),
  monthly_budget_usd: z.number().nonnegative().optional(),
  rate_limit_rpm: z.number().int().positive().optional(),
  /** Deny by default: a key made without this reaches no passthrough path. */
  passthrough_paths: z.array(passthroughGrant).optional(),
  /** false: this key's requests bypass the response cache. */
  cache: z.boolean().optional(),
  /** Chat moderation for this key (input off|block|route, output off|block, route_to). */
  moderation: moderationActions.optional(),
});

const purgeQuery = z.strictObject({
  /** A key's name: that caller's entries. */
  tenant: z.string().min(1).optional(),
  /** One entry: the request id of the answer it keeps (a hit's log row names it). */
  id: z.string().min(1).optional(),
});

const reportQuery = z.strictObject({
  period: z.enum(REPORT_PERIODS).default('month'),
  format: z.enum(REPORT_FORMATS).default('json'),
});

/** The `sluice optimize` modes: a dry run by default, `dry_run: false` (or `apply: true`) applies a fresh proposal, `apply: <version>` a saved one. */
const optimizeBody = z
  .strictObject({
    dry_run: z.boolean().optional(),
    apply: z.union([z.literal(true), z.number().int().positive()]).optional(),
    rollback: z.literal(true).optional(),
    list: z.literal(true).optional(),
  })
  .refine((body) => [body.apply !== undefined || body.dry_run === false, body.rollback, body.list].filter(Boolean).length <= 1 && !(body.dry_run === true && (body.apply ?? body.rollback ?? body.list)), {
    message: 'choose one of dry_run, apply, rollback, list',
  });

function optimizeCommandOf(body: z.infer<typeof optimizeBody>): OptimizeCommand {
  if (body.list) return { mode: 'list' };
  if (body.rollback) return { mode: 'rollback' };
  if (typeof body.apply === 'number') return { mode: 'apply', version: body.apply };
  return body.apply === true || body.dry_run === false ? { mode: 'apply' } : { mode: 'dry-run' };
}

/**
 * Key management, the cache's purge and the savings report, guarded by SLUICE_MASTER_KEY; without a
 * master key the admin API is off. `reports` is undefined when the log has no SQL database.
 */
export function adminRouter(keys: KeyStore, hasMasterKey: boolean, responses?: ResponseCache, reports?: SavingsReports, optimize?: OptimizeRequests): express.Router {
  const router = express.Router();
  router.use((request: Request, _response: Response, next) => {
    if (!hasMasterKey) throw new SluiceError('not-found', 'the admin API is disabled: set SLUICE_MASTER_KEY');
    if (!keys.isMaster(bearerToken(request))) throw new SluiceError('unauthenticated', 'the admin API needs the master key');
    next();
  });
  router.get('/keys', (_request, response) => {
    response.json({ object: 'list', data: keys.list() });
  });
  router.post('/keys', express.json({ limit: '64kb' }), (request, response) => {
    const body = validate(createKeySchema, request.body);
    try {
      const { key, record } = keys.create(body);
      response.status(201).json({ ...record, key });
    } catch (error) {
      if (error instanceof KeyRequestError) throw new SluiceError('invalid-request', error.message, { param: error.param });
      throw error;
    }
  });
  router.delete('/keys/:name', (request, response) => {
    const name = String(request.params.name);
    if (!keys.remove(name)) throw new SluiceError('not-found', `no key named "${name}" was made through the admin API`);
    response.json({ deleted: true, name });
  });
  // DELETE /admin/cache: everything; ?tenant=<key name>: one caller's; ?id=<entry id>: one entry.
  router.delete('/cache', async (request, response) => {
    const query = validate(purgeQuery, request.query);
    if (!responses) throw new SluiceError('not-found', 'the response cache is off (cache.enabled: false)');
    if (query.tenant && query.id) throw new SluiceError('invalid-request', 'purge by tenant or by id, not both', { param: 'id' });
    const filter: PurgeFilter = query.id ? { id: query.id } : query.tenant ? { tenantId: query.tenant } : { all: true };
    response.json({ object: 'cache.purge', purged: await responses.purge(filter), ...filter });
  });
  // GET /admin/report?period=day|week|month&format=json|text|md|html: `sluice report --url` asks here.
  router.get('/report', async (request, response) => {
    const query = validate(reportQuery, request.query);
    if (!reports) {
      answerSqlStoreMissing(response, 'the savings report', 'report_unavailable');
      return;
    }
    const report = await reports(query.period);
    // The HTML page is self-contained: it may load nothing and run nothing.
    if (query.format === 'html') response.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    response.type(REPORT_CONTENT_TYPES[query.format]).send(renderReport(report, query.format));
  });
  // POST /admin/optimize: `sluice optimize` asks here while a gateway runs; apply and rollback change its live routing.
  router.post('/optimize', express.json({ limit: '4kb' }), async (request, response) => {
    const command = optimizeCommandOf(validate(optimizeBody, request.body ?? {}));
    if (!optimize) throw new SluiceError('not-found', 'the optimizer is off (learning.optimizer.enabled: false)');
    try {
      response.json(await optimize(command));
    } catch (error) {
      if (!(error instanceof OptimizeRefusal)) throw error;
      throw new SluiceError(error.isMissing ? 'not-found' : 'invalid-request', error.message, { code: 'optimize_refused' });
    }
  });
  return router;
}
