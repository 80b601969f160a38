import { StringDecoder } from 'node:string_decoder';
import type { Usage } from '../../adapters/spec/index.js';
import { usageFromAnswer } from './passthrough-cost.js';

/**
 * Reads the usage out of a passthrough answer as its bytes go by, keeping no more than one
 * event (SSE) or one capped copy (JSON): the answer itself is piped to the client untouched.
 * Server-sent events: the last event that carries a usage wins — a Responses stream's
 * `response.completed` (or `.incomplete` / `.failed`, billed as well) has `response.usage`, a
 * completions stream with `stream_options.include_usage` ends on a chunk with `usage`.
 */
export interface UsageTap {
  write(chunk: Buffer): void;
  /** The usage the answer reported, once it has ended; undefined when it reported none that could be read. */
  usage(): Usage | undefined;
}

export function usageTapFor(contentType: string | undefined, maxBytes: number): UsageTap {
  if (contentType?.toLowerCase().startsWith('text/event-stream')) return new EventStreamTap(maxBytes);
  return new JsonTap(maxBytes);
}

class JsonTap implements UsageTap {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes <= this.maxBytes) this.chunks.push(chunk);
    else this.chunks.length = 0; // too large to keep a copy of; the charge falls back to the hold
  }

  usage(): Usage | undefined {
    if (this.bytes > this.maxBytes || this.chunks.length === 0) return undefined;
    try {
      const answer: unknown = JSON.parse(Buffer.concat(this.chunks).toString('utf8'));
      return typeof answer === 'object' && answer !== null ? usageFromAnswer((answer as { usage?: unknown }).usage) : undefined;
    } catch {
      return undefined; // not JSON after all (a gzip body, an HTML error page): no usage read
    }
  }
}

class EventStreamTap implements UsageTap {
  private readonly decoder = new StringDecoder('utf8');
  private partialLine = '';
  private data: string[] = [];
  private dataChars = 0;
  private latest: Usage | undefined;

  constructor(private readonly maxChars: number) {}

  write(chunk: Buffer): void {
    const lines = (this.partialLine + this.decoder.write(chunk)).split('\n');
    this.partialLine = lines.pop() ?? '';
    // A line that never ends would grow without bound; past the cap it cannot be an event we read.
    if (this.partialLine.length > this.maxChars) this.partialLine = '';
    for (const line of lines) this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  usage(): Usage | undefined {
    this.line(this.partialLine);
    this.line('');
    return this.latest;
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (!line.startsWith('data:')) return; // `event:`, `id:`, comments: the type is in the data too
    const value = line.slice(line.startsWith('data: ') ? 6 : 5);
    this.dataChars += value.length;
    if (this.dataChars <= this.maxChars) this.data.push(value);
  }

  private dispatch(): void {
    const isWhole = this.dataChars <= this.maxChars;
    const text = this.data.join('\n');
    this.data = [];
    this.dataChars = 0;
    if (!isWhole || !text.includes('"usage"')) return;
    try {
      const event = JSON.parse(text) as { usage?: unknown; response?: { usage?: unknown } };
      const usage = usageFromAnswer(event.response?.usage) ?? usageFromAnswer(event.usage);
      if (usage) this.latest = usage;
    } catch {
      // an event that is not JSON (`[DONE]`) carries no usage
    }
  }
}
