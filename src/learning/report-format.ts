import { formatTable } from '../cli/text-table.js';
import type { SavingsReport, TargetCheck } from './savings-report.js';

export const REPORT_FORMATS = ['text', 'json', 'md', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The media type each format is served as by GET /admin/report. */
export const REPORT_CONTENT_TYPES: Record<ReportFormat, string> = {
  text: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

/** The report in one of its four renderings; each ends with a newline. */
export function renderReport(report: SavingsReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'text':
      return renderText(report);
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
  }
}

/** The rendering's cells, shared by the text, Markdown and HTML forms; values stay raw until each escapes them. */
interface Sections {
  title: string;
  summary: [string, string][];
  targets: [string, string, string, string][];
  models: [string, string, string, string][];
  tenants: [string, string, string][];
}

const TARGET_LABELS: Record<TargetCheck['name'], string> = {
  local_share: 'local share',
  cost_per_request_usd: 'cost per request',
  quality: 'quality',
  latency_p95_ms: 'latency p95',
  failure_rate: 'failure rate',
  projected_month_usd: 'projected month-end',
};

function sectionsOf(report: SavingsReport): Sections {
  const { period } = report;
  const savings = report.savings_usd === null ? '-' : `${usd(report.savings_usd)} (${report.savings_pct === null ? '-' : `${report.savings_pct.toFixed(1)}%`})`;
  return {
    title: `Sluice savings report: ${period.kind} ${localDate(period.start, period.time_zone)} to ${localDate(lastMoment(period.end), period.time_zone)} (${period.time_zone})`,
    summary: [
      ['requests', `${report.requests} (${report.chat_requests} chat, ${report.answered_chat_requests} answered)`],
      ['spend', usd(report.spend_usd)],
      ['shadow spend', `${usd(report.shadow_spend_usd)} (shadow sampling, in the spend)`],
      ['baseline spend', report.counterfactual_usd === null ? `- (${report.baseline_model} has no configured price)` : `${usd(report.counterfactual_usd)} if every chat request had gone to ${report.baseline_model}`],
      ['savings', savings],
      ['cache share', share(report.cache_share)],
      ['latency p50', ms(report.latency_p50_ms)],
      ['quality scored', `${report.quality_scored} answers`],
      ['failures', String(report.failures)],
      ['month to date', `${usd(report.budget.month_to_date_usd)} of ${usd(report.budget.monthly_usd)}`],
    ],
    targets: report.targets.map((check) => [TARGET_LABELS[check.name], formatValue(check.name, check.value), goal(check), mark(check.pass)]),
    models: report.top_models.map((entry) => [entry.model, usd(entry.cost_usd), String(entry.attempts), String(entry.answers)]),
    tenants: report.top_tenants.map((entry) => [entry.tenant ?? '(no key)', usd(entry.cost_usd), String(entry.requests)]),
  };
}

const TARGET_HEADER = ['target', 'value', 'goal', 'result'];
const MODEL_HEADER = ['model', 'cost', 'attempts', 'answers'];
const TENANT_HEADER = ['tenant', 'cost', 'requests'];

function renderText(report: SavingsReport): string {
  const sections = sectionsOf(report);
  const upper = (row: readonly string[]) => row.map((cell) => cell.toUpperCase());
  const block = (title: string, rows: readonly (readonly string[])[], header: readonly string[]) =>
    rows.length === 0 ? [title, '  (none)'] : [title, formatTable([upper(header), ...rows], '  ')];
  return [
    sections.title,
    '',
    formatTable(sections.summary),
    '',
    formatTable([upper(TARGET_HEADER), ...sections.targets]),
    '',
    ...block('Top models by cost', sections.models, MODEL_HEADER),
    '',
    ...block('Top tenants by cost', sections.tenants, TENANT_HEADER),
    '',
  ].join('\n');
}

function renderMarkdown(report: SavingsReport): string {
  const sections = sectionsOf(report);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const table = (header: readonly string[], rows: readonly (readonly string[])[]) =>
    [line(header), line(header.map(() => '---')), ...rows.map((row) => line(row.map(markdownCell)))].join('\n');
  return [
    `# ${markdownCell(sections.title)}`,
    '',
    table(['figure', 'value'], sections.summary),
    '',
    table(TARGET_HEADER, sections.targets),
    '',
    '## Top models by cost',
    '',
    table(MODEL_HEADER, sections.models),
    '',
    '## Top tenants by cost',
    '',
    table(TENANT_HEADER, sections.tenants),
    '',
  ].join('\n');
}

/** A cell that can hold no table syntax, Markdown emphasis, raw HTML or entity (`<=` stays readable). */
function markdownCell(text: string): string {
  return text
    .replace(/&(?=#?\w+;)/g, '&amp;')
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;')
    .replace(/[\\`*_[\]#|~]/g, (character) => `\\${character}`)
    .replace(/[\r\n]+/g, ' ');
}

function renderHtml(report: SavingsReport): string {
  const sections = sectionsOf(report);
  const table = (header: readonly string[], rows: readonly (readonly string[])[], classOf: (row: readonly string[]) => string = () => '') =>
    `<table><thead><tr>${header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((row) => `<tr${classOf(row)}>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const resultClass = (row: readonly string[]) => (row[3] === 'pass' ? ' class="pass"' : row[3] === 'FAIL' ? ' class="fail"' : '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(sections.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:0 0 1.5rem}
th,td{border:1px solid #ccc;padding:.3rem .7rem;text-align:left}
th{background:#f4f4f4}
tr.pass td:last-child{color:#16672a;font-weight:600}
tr.fail td:last-child{color:#b00020;font-weight:600}
</style></head><body>
<h1>${escapeHtml(sections.title)}</h1>
${table(['figure', 'value'], sections.summary)}
${table(TARGET_HEADER, sections.targets, resultClass)}
<h2>Top models by cost</h2>
${table(MODEL_HEADER, sections.models)}
<h2>Top tenants by cost</h2>
${table(TENANT_HEADER, sections.tenants)}
<p>Generated ${escapeHtml(report.period.generated_at)}.</p>
</body></html>
`;
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ENTITIES[character]!);
}

function formatValue(name: TargetCheck['name'], value: number | null): string {
  if (value === null) return '-';
  switch (name) {
    case 'local_share':
    case 'failure_rate':
      return share(value);
    case 'cost_per_request_usd':
    case 'projected_month_usd':
      return usd(value);
    case 'quality':
      return value.toFixed(2);
    case 'latency_p95_ms':
      return ms(value);
  }
}

function goal(check: TargetCheck): string {
  return `${check.direction === 'min' ? '>=' : '<='} ${formatValue(check.name, check.target)}`;
}

function mark(pass: boolean | null): string {
  return pass === null ? 'no data' : pass ? 'pass' : 'FAIL';
}

/** `$12.34` from a dollar up; below, three significant digits (`$0.00364`), so small spends stay readable. */
function usd(value: number): string {
  if (value === 0) return '$0';
  const sign = value < 0 ? '-' : '';
  const magnitude = Math.abs(value);
  const digits = magnitude >= 1 ? magnitude.toFixed(2) : magnitude.toPrecision(3).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return `${sign}$${digits}`;
}

function share(value: number | null): string {
  return value === null ? '-' : `${(100 * value).toFixed(1)}%`;
}

function ms(value: number | null): string {
  return value === null ? '-' : `${Math.round(value)} ms`;
}

/** The calendar date of an instant on the zone's calendar, `2026-12-31`. */
function localDate(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

/** The period's end is exclusive: its last day is the one just before it. */
function lastMoment(iso: string): string {
  return new Date(new Date(iso).getTime() - 1).toISOString();
}
