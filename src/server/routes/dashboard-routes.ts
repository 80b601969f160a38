import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { SluiceError } from '../../../adapters/spec/index.js';
import type { KeyStore } from '../../auth/key-store.js';
import { loadDashboardAssets, type DashboardAsset } from '../../dashboard/dashboard-assets.js';
import type { DashboardRequests } from '../../dashboard/live-dashboard.js';
import { REPORT_PERIODS } from '../../learning/savings-report.js';
import { bearerToken } from '../auth-middleware.js';
import { validate } from '../validate.js';
import { answerSqlStoreMissing } from './sql-store-missing.js';

/**
 * The page runs only its own two scripts and styles, fetches only this origin, and has no form to
 * submit anywhere: the login form's key goes to sessionStorage and into each fetch's header, never
 * into a URL or a cookie. uPlot sets element styles through the CSSOM, which style-src does not govern.
 */
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const dataQuery = z.strictObject({ period: z.enum(REPORT_PERIODS).default('day') });

/**
 * GET /dashboard (the page and its assets, open: they hold no data) and GET /admin/dashboard/data
 * (master key). Both are off, like the admin API, without a master key; the data answers 501 when
 * the store has no SQL database (supabase-js).
 */
export function dashboardRouter(keys: KeyStore, hasMasterKey: boolean, dashboard?: DashboardRequests): express.Router {
  const router = express.Router();
  const assets = loadDashboardAssets();
  const isOff = () => {
    if (!hasMasterKey) throw new SluiceError('not-found', 'the dashboard is disabled: set SLUICE_MASTER_KEY');
  };
  const send = (response: Response, asset: DashboardAsset) => {
    response.set({ 'content-type': asset.contentType, 'content-security-policy': PAGE_POLICY, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' });
    response.send(asset.body);
  };
  router.get(['/dashboard', '/dashboard/'], (_request, response) => {
    isOff();
    send(response, assets.page);
  });
  router.get('/dashboard/assets/:name', (request: Request, response) => {
    isOff();
    const asset = assets.files.get(String(request.params.name));
    if (!asset) throw new SluiceError('not-found', `no dashboard asset ${String(request.params.name)}`);
    send(response, asset);
  });
  router.get('/admin/dashboard/data', async (request, response) => {
    isOff();
    if (!keys.isMaster(bearerToken(request))) throw new SluiceError('unauthenticated', 'the dashboard needs the master key');
    const query = validate(dataQuery, request.query);
    if (!dashboard) {
      answerSqlStoreMissing(response, 'the dashboard', 'dashboard_unavailable');
      return;
    }
    response.set('cache-control', 'no-store').json(await dashboard(query.period));
  });
  return router;
}
