import { isEntryScript } from '../../src/cli/entry-script.js';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatRequest } from '../../adapters/spec/index.js';
import { formatIssue } from '../../src/config/load.js';
import { chatRequestSchema } from '../../src/server/chat-request-schema.js';
import { passesCheck } from './answer-check.js';
import { ID_PREFIX, LANGUAGES, TIERS, setItemSchema, type SetItem } from './set-item.js';

export const ROUTING_SET_DIR = dirname(fileURLToPath(import.meta.url));

/** An item with the request the router sees: what the gateway's validation hands the pipeline. */
export interface LoadedItem extends SetItem {
  request: ChatRequest;
  /** `file:line`, for messages. */
  source: string;
}

export interface RoutingSet {
  items: LoadedItem[];
  /** One line per problem; a set with any is malformed and is not evaluated. */
  problems: string[];
}

const MIN_ITEMS = 400;
/** Held-out share each tier must have (the brief asks ~25%, evenly across tiers). */
const HELDOUT_SHARE = { min: 0.2, max: 0.3 };

/** Reads every `*.jsonl` of the folder and checks each item, then the set as a whole. */
export function loadRoutingSet(dir = ROUTING_SET_DIR): RoutingSet {
  const items: LoadedItem[] = [];
  const problems: string[] = [];
  const files = readdirSync(dir).filter((name) => name.endsWith('.jsonl')).sort();
  if (files.length === 0) problems.push(`${dir}: no .jsonl files`);
  for (const file of files) {
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (line.trim() === '') return;
        const source = `${file}:${index + 1}`;
        const item = parseItem(line, source, problems);
        if (item) items.push(item);
      });
  }
  problems.push(...setProblems(items));
  return { items, problems };
}

function parseItem(line: string, source: string, problems: string[]): LoadedItem | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    problems.push(`${source}: not JSON: ${(error as Error).message}`);
    return undefined;
  }
  const parsed = setItemSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => `${source}: ${formatIssue(issue)}`));
    return undefined;
  }
  const item = parsed.data;
  const body = { model: 'auto', messages: item.messages, ...(item.tools ? { tools: item.tools } : {}), ...(item.response_format ? { response_format: item.response_format } : {}) };
  const request = chatRequestSchema.safeParse(body);
  if (!request.success) {
    problems.push(...request.error.issues.map((issue) => `${source} (${item.id}): request ${formatIssue(issue)}`));
    return undefined;
  }
  const itemProblems = [
    item.id.startsWith(`${ID_PREFIX[item.tier]}-`) ? undefined : `id ${item.id} does not start with "${ID_PREFIX[item.tier]}-" (tier ${item.tier})`,
    item.messages.at(-1)?.role === 'assistant' ? 'the last message is the assistant\'s: nothing to answer' : undefined,
    passesCheck(item.check, item.oracle) ? undefined : `the oracle fails its own ${item.check.kind} check`,
  ].filter((problem): problem is string => problem !== undefined);
  problems.push(...itemProblems.map((problem) => `${source} (${item.id}): ${problem}`));
  return itemProblems.length === 0 ? { ...item, request: request.data as ChatRequest, source } : undefined;
}

function setProblems(items: readonly LoadedItem[]): string[] {
  const problems: string[] = [];
  const firstSeen = new Map<string, string>();
  for (const item of items) {
    const earlier = firstSeen.get(item.id);
    if (earlier) problems.push(`${item.source}: duplicate id ${item.id} (first at ${earlier})`);
    else firstSeen.set(item.id, item.source);
  }
  if (items.length < MIN_ITEMS) problems.push(`only ${items.length} valid items; the set needs at least ${MIN_ITEMS}`);
  for (const tier of TIERS) {
    const ofTier = items.filter((item) => item.tier === tier);
    if (ofTier.length === 0) {
      problems.push(`no items of tier ${tier}`);
      continue;
    }
    const share = ofTier.filter((item) => item.split === 'heldout').length / ofTier.length;
    if (share < HELDOUT_SHARE.min || share > HELDOUT_SHARE.max) {
      problems.push(`tier ${tier}: ${(share * 100).toFixed(0)}% held out; between ${HELDOUT_SHARE.min * 100}% and ${HELDOUT_SHARE.max * 100}% wanted`);
    }
  }
  return problems;
}

/** Items per tier × split (rows) and language (columns), as a Markdown table. */
export function formatCounts(items: readonly SetItem[]): string {
  const languages = LANGUAGES.filter((code) => items.some((item) => item.lang === code));
  const header = `| tier | split | ${languages.join(' | ')} | all |`;
  const rule = `| --- | --- | ${languages.map(() => '---:').join(' | ')} | ---: |`;
  const row = (label: string, split: string, subset: readonly SetItem[]) =>
    `| ${label} | ${split} | ${languages.map((code) => subset.filter((item) => item.lang === code).length).join(' | ')} | ${subset.length} |`;
  const rows = TIERS.flatMap((tier) =>
    (['train', 'heldout'] as const).map((split) => row(tier, split, items.filter((item) => item.tier === tier && item.split === split))),
  );
  const totals = (['train', 'heldout'] as const).map((split) => row('**all**', split, items.filter((item) => item.split === split)));
  return [header, rule, ...rows, ...totals, row('**all**', 'both', items)].join('\n');
}


if (isEntryScript(import.meta.url)) {
  const set = loadRoutingSet();
  process.stdout.write(`${formatCounts(set.items)}\n`);
  for (const problem of set.problems) process.stderr.write(`routing set: ${problem}\n`);
  process.stdout.write(set.problems.length === 0 ? `routing set OK: ${set.items.length} items\n` : `routing set MALFORMED: ${set.problems.length} problems\n`);
  process.exit(set.problems.length === 0 ? 0 : 1);
}
