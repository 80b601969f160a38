/** One connection, one streamed request at a time: time to the first `data:` event and the gaps between events. */
import http from 'node:http';

export interface StreamTiming {
  firstDataP50Ms: number;
  firstDataP99Ms: number;
  gapP50Ms: number;
  gapP99Ms: number;
}

const at = (sorted: number[], share: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))]!;

export async function streamTiming(url: string, body: object, headers: Record<string, string>, count: number): Promise<StreamTiming> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const payload = JSON.stringify(body);
  const firsts: number[] = [];
  const gaps: number[] = [];
  const once = (record: boolean) =>
    new Promise<void>((resolve, reject) => {
      const started = performance.now();
      let last = 0;
      let pending = '';
      const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`${url}: status ${response.statusCode}`));
        response.setEncoding('utf8');
        response.on('data', (text: string) => {
          const now = performance.now();
          pending += text;
          let events = 0;
          let boundary: number;
          while ((boundary = pending.indexOf('\n\n')) >= 0) {
            if (pending.startsWith('data:')) events++;
            pending = pending.slice(boundary + 2);
          }
          if (!record || events === 0) return;
          if (last === 0) firsts.push(now - started);
          else gaps.push(now - last);
          last = now;
        });
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end(payload);
    });
  for (let warm = 0; warm < 50; warm++) await once(false);
  for (let index = 0; index < count; index++) await once(true);
  agent.destroy();
  firsts.sort((a, b) => a - b);
  gaps.sort((a, b) => a - b);
  return { firstDataP50Ms: at(firsts, 0.5), firstDataP99Ms: at(firsts, 0.99), gapP50Ms: gaps.length ? at(gaps, 0.5) : 0, gapP99Ms: gaps.length ? at(gaps, 0.99) : 0 };
}
