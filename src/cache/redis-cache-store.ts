import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { matchesPurge, type CachedAnswer, type CacheStore, type PurgeFilter, type StoreListener } from './cache-store.js';

type Client = ReturnType<typeof createClient>;

export interface RedisCacheStoreOptions {
  url: string;
  maxEntries: number;
  /** Connection trouble, said once per outage (the clients reconnect by themselves). */
  onTrouble(error: Error): void;
  prefix?: string;
}

const SCAN_BATCH = 500;

/**
 * The cache shared by every instance through Redis, which has no vector search here: entries (with
 * their vectors) live in Redis under a TTL, each instance keeps its own vector index, and a Redis
 * stream carries inserts and purges to the other instances' indexes. An instance that starts, or
 * reconnects after an outage, scans the entries to catch up. Every command fails at once while
 * Redis is away (no offline queue): lookups are misses and writes are dropped, never errors.
 *
 * Keys: `e:<id>` entry JSON, `x:<exact>` → id, `lru` sorted set (id → last use, ms), `events` stream.
 */
export class RedisCacheStore implements CacheStore {
  private readonly prefix: string;
  private readonly source = randomUUID();
  private readonly commands: Client;
  private readonly reader: Client;
  private readonly listeners: StoreListener[] = [];
  private lastEventId = '0-0';
  private isClosed = false;
  private inTrouble = false;
  private following: Promise<void> | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: RedisCacheStoreOptions) {
    this.prefix = options.prefix ?? 'sluice:cache:';
    this.commands = createClient({ url: options.url, disableOfflineQueue: true });
    this.reader = this.commands.duplicate();
    for (const client of [this.commands, this.reader]) client.on('error', (error: Error) => this.trouble(error));
  }

  async exactId(exact: string): Promise<string | undefined> {
    const id = await this.send(['GET', this.key('x', exact)]);
    return typeof id === 'string' ? id : undefined;
  }

  async get(id: string): Promise<CachedAnswer | undefined> {
    const json = await this.send(['GET', this.key('e', id)]);
    if (typeof json !== 'string') {
      // Expired, evicted, or lost with a Redis restart: this instance's index forgets it too.
      if (json === null) this.notifyRemoved([id]);
      return undefined;
    }
    return parseEntry(json);
  }

  async put(entry: CachedAnswer): Promise<void> {
    const ttlMs = String(Math.max(1, entry.expiresAt - Date.now()));
    const stored = await this.send(['SET', this.key('e', entry.id), serialiseEntry(entry), 'PX', ttlMs]);
    if (stored !== 'OK') return;
    await this.send(['SET', this.key('x', entry.exact), entry.id, 'PX', ttlMs]);
    await this.send(['ZADD', this.key('lru'), String(Date.now()), entry.id]);
    for (const listener of this.listeners) listener.added(entry);
    await this.publish(['op', 'put', 'id', entry.id]);
    await this.evictOverLimit();
  }

  touch(id: string): void {
    void this.send(['ZADD', this.key('lru'), 'XX', String(Date.now()), id]);
  }

  async purge(filter: PurgeFilter): Promise<number> {
    let removed = 0;
    for await (const entries of 'id' in filter ? this.entryById(filter.id) : this.scanEntries()) {
      const doomed = entries.filter((entry) => matchesPurge(entry, filter));
      if (doomed.length === 0) continue;
      await this.send(['DEL', ...doomed.flatMap((entry) => [this.key('e', entry.id), this.key('x', entry.exact)])]);
      await this.send(['ZREM', this.key('lru'), ...doomed.map((entry) => entry.id)]);
      removed += doomed.length;
    }
    for (const listener of this.listeners) listener.purged(filter);
    await this.publish(['op', 'purge', 'filter', JSON.stringify(filter)]);
    return removed;
  }

  /** Starts the catch-up scan and the event reader; the listener sees every entry there is. */
  follow(listener: StoreListener): void {
    this.listeners.push(listener);
    this.following ??= this.connect().then(() => this.readEvents());
  }

  /** Resolves once connected and caught up (tests and readiness wait on it). */
  async ready(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.isClosed = true;
    for (const client of [this.commands, this.reader]) {
      if (client.isReady) await client.quit().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
    }
    await this.following?.catch(() => undefined);
  }

  private connect(): Promise<void> {
    // A failed catch-up is retried by the reader once Redis answers again.
    this.connecting ??= Promise.all([this.commands.connect(), this.reader.connect()]).then(() => this.catchUp().catch((error: Error) => this.trouble(error)));
    return this.connecting;
  }

  /** Reads inserts and purges made by other instances, for as long as the store is open. */
  private async readEvents(): Promise<void> {
    while (!this.isClosed) {
      let reply: unknown;
      try {
        reply = await this.reader.sendCommand(['XREAD', 'COUNT', '200', 'BLOCK', '1000', 'STREAMS', this.key('events'), this.lastEventId]);
      } catch (error) {
        if (this.isClosed) return;
        this.trouble(error as Error);
        await sleep(250);
        continue;
      }
      if (this.inTrouble) {
        // Back after an outage: what happened meanwhile is in the entries, not in our position.
        this.inTrouble = false;
        await this.catchUp().catch((error: Error) => this.trouble(error));
      }
      for (const [id, fields] of streamEvents(reply)) {
        this.lastEventId = id;
        await this.apply(fields);
      }
    }
  }

  private async apply(fields: Readonly<Record<string, string>>): Promise<void> {
    if (fields.src === this.source) return;
    if (fields.op === 'put' && fields.id) {
      const entry = await this.get(fields.id);
      if (entry) for (const listener of this.listeners) listener.added(entry);
    } else if (fields.op === 'del' && fields.ids) {
      this.notifyRemoved(fields.ids.split(','));
    } else if (fields.op === 'purge' && fields.filter) {
      const filter = JSON.parse(fields.filter) as PurgeFilter;
      for (const listener of this.listeners) listener.purged(filter);
    }
  }

  /** Every live entry, to the listeners; the event position first, so nothing falls between. */
  private async catchUp(): Promise<void> {
    const newest = await this.reader.sendCommand(['XREVRANGE', this.key('events'), '+', '-', 'COUNT', '1']);
    const [latest] = streamEntries(newest);
    if (latest) this.lastEventId = latest[0];
    for await (const entries of this.scanEntries()) for (const entry of entries) for (const listener of this.listeners) listener.added(entry);
  }

  private async *entryById(id: string): AsyncGenerator<CachedAnswer[]> {
    const entry = await this.get(id);
    if (entry) yield [entry];
  }

  private async *scanEntries(): AsyncGenerator<CachedAnswer[]> {
    let cursor = '0';
    do {
      const reply = await this.commands.sendCommand(['SCAN', cursor, 'MATCH', this.key('e', '*'), 'COUNT', String(SCAN_BATCH)]);
      const [next, keys] = reply as unknown as [string, string[]];
      cursor = next;
      if (keys.length === 0) continue;
      const values = (await this.commands.sendCommand(['MGET', ...keys])) as (string | null)[];
      yield values.flatMap((json) => (json ? [parseEntry(json)].filter((entry): entry is CachedAnswer => entry !== undefined) : []));
    } while (cursor !== '0');
  }

  /** Over the limit: the least recently used go, here and (through the stream) everywhere. */
  private async evictOverLimit(): Promise<void> {
    const count = Number(await this.send(['ZCARD', this.key('lru')]));
    if (!(count > this.options.maxEntries)) return;
    const popped = await this.send(['ZPOPMIN', this.key('lru'), String(count - this.options.maxEntries)]);
    const ids = Array.isArray(popped) ? popped.filter((_, index) => index % 2 === 0).map(String) : [];
    if (ids.length === 0) return;
    await this.send(['DEL', ...ids.map((id) => this.key('e', id))]);
    await this.forget(ids);
  }

  private async forget(ids: readonly string[]): Promise<void> {
    this.notifyRemoved(ids);
    await this.publish(['op', 'del', 'ids', ids.join(',')]);
  }

  private notifyRemoved(ids: readonly string[]): void {
    for (const listener of this.listeners) listener.removed(ids);
  }

  private publish(fields: string[]): Promise<unknown> {
    return this.send(['XADD', this.key('events'), 'MAXLEN', '~', '10000', '*', 'src', this.source, ...fields]);
  }

  /** A command that cannot fail the caller: undefined when Redis is away. */
  private async send(command: string[]): Promise<unknown> {
    if (this.isClosed) return undefined;
    try {
      return await this.commands.sendCommand(command);
    } catch (error) {
      this.trouble(error as Error);
      return undefined;
    }
  }

  private trouble(error: Error): void {
    if (this.inTrouble || this.isClosed) return;
    this.inTrouble = true;
    this.options.onTrouble(error);
  }

  private key(kind: string, id?: string): string {
    return id === undefined ? `${this.prefix}${kind}` : `${this.prefix}${kind}:${id}`;
  }
}

function serialiseEntry(entry: CachedAnswer): string {
  const { vector, ...rest } = entry;
  return JSON.stringify({ ...rest, v: vector ? Buffer.from(Float32Array.from(vector).buffer).toString('base64') : undefined });
}

function parseEntry(json: string): CachedAnswer | undefined {
  try {
    const { v, ...rest } = JSON.parse(json) as CachedAnswer & { v?: string };
    if (!v) return rest;
    const bytes = Buffer.from(v, 'base64');
    return { ...rest, vector: [...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)] };
  } catch {
    return undefined; // another version's entry: a miss
  }
}

/** XREVRANGE's reply: [[id, [field, value, …]], …]. */
function streamEntries(reply: unknown): [string, string[]][] {
  return Array.isArray(reply) ? (reply as [string, string[]][]) : [];
}

/** XREAD's reply, RESP2 ([[stream, entries]]) or RESP3 ({stream: entries}), as [id, fields] pairs. */
function streamEvents(reply: unknown): [string, Record<string, string>][] {
  if (!reply) return [];
  const streams = Array.isArray(reply) ? (reply as [string, unknown][]).map(([, entries]) => entries) : Object.values(reply as Record<string, unknown>);
  return streams.flatMap((entries) =>
    streamEntries(entries).map(([id, flat]): [string, Record<string, string>] => {
      const fields: Record<string, string> = {};
      for (let index = 0; index + 1 < flat.length; index += 2) fields[String(flat[index])] = String(flat[index + 1]);
      return [String(id), fields];
    }),
  );
}
