import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/command-context.js';
import { fileUrl, HubClient, parseContentRange, repoInfoUrl, sha256FromEtag } from '../../../src/cli/hub-client.js';
import { startFakeHub, type FakeHub } from '../../fakes/fake-hub.js';

const WEIGHTS = randomBytes(64 * 1024);
const SHA = createHash('sha256').update(WEIGHTS).digest('hex');

describe('hub URLs and headers', () => {
  it('builds HF’s file and repo-info URLs, the revision as one encoded segment', () => {
    expect(fileUrl('https://huggingface.co', 'Org/Name', 'main', 'onnx/model q4.onnx')).toBe('https://huggingface.co/Org/Name/resolve/main/onnx/model%20q4.onnx');
    expect(fileUrl('https://hf.co', 'gpt2', 'refs/pr/1', 'a.bin')).toBe('https://hf.co/gpt2/resolve/refs%2Fpr%2F1/a.bin');
    expect(repoInfoUrl('https://hf.co', 'Org/Name', 'v1')).toBe('https://hf.co/api/models/Org/Name/revision/v1');
  });

  it.each([
    [`"${SHA}"`, SHA],
    [`W/"${SHA.toUpperCase()}"`, SHA],
    [SHA, SHA],
    ['"d2b0f1b5e6a5bd3f8a6b2c1e0f9a8b7c6d5e4f3a"', undefined], // a git blob sha1: not a sha256
    ['"9e107d9d372bb6826bd81d3542a419d6-12"', undefined], // an S3 multipart etag
    [null, undefined],
  ])('etag %s → sha256 %s', (etag, expected) => {
    expect(sha256FromEtag(etag)).toBe(expected);
  });

  it.each([
    ['bytes 100-199/1000', { start: 100, total: 1000 }],
    ['bytes */1000', { start: undefined, total: 1000 }],
    ['bytes 0-9/*', { start: 0, total: undefined }],
    ['items 0-9/10', undefined],
    [null, undefined],
  ])('content-range %s → %j', (header, expected) => {
    expect(parseContentRange(header)).toEqual(expected);
  });
});

describe('HubClient against the fake hub', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await startFakeHub({
      repos: {
        'Org/Name': { files: { 'model.gguf': WEIGHTS, 'config.json': Buffer.from('{}') } },
        'Org/Gated': { files: { 'model.gguf': WEIGHTS }, gated: true },
      },
    });
  });
  afterAll(() => hub.close());

  const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable(), (error: unknown) => error as CliError);

  it('lists a repo’s files and the commit its revision points at', async () => {
    expect(await new HubClient(hub.url, undefined).listFiles('Org/Name', 'main')).toEqual({
      files: ['model.gguf', 'config.json'],
      commit: hub.commitOf('Org/Name'),
    });
  });

  it('follows the LFS redirect, taking the sha256 and size from it, and keeps the token off the CDN', async () => {
    const start = hub.requests.length;
    const opened = await new HubClient(hub.url, hub.token).openFile('Org/Gated', 'main', 'model.gguf', 1000);
    expect(opened.response.status).toBe(206);
    expect(opened).toMatchObject({ hubSha256: SHA, totalBytes: WEIGHTS.length, commit: hub.commitOf('Org/Gated') });
    expect(Buffer.from(await opened.response.arrayBuffer()).equals(WEIGHTS.subarray(1000))).toBe(true);
    const [resolve, cdn] = hub.requests.slice(start);
    expect([resolve.server, resolve.status, resolve.headers.authorization]).toEqual(['hub', 302, `Bearer ${hub.token}`]);
    expect([cdn.server, cdn.status, cdn.headers.authorization, cdn.headers.range]).toEqual(['cdn', 206, undefined, 'bytes=1000-']);
  });

  it('takes no sha256 from a small file’s git etag', async () => {
    const opened = await new HubClient(hub.url, undefined).openFile('Org/Name', 'main', 'config.json', 0);
    expect(opened).toMatchObject({ hubSha256: undefined, totalBytes: 2 });
    expect(await opened.response.text()).toBe('{}');
  });

  it('answers 416 past the end with the total, so a complete part can be recognised', async () => {
    const opened = await new HubClient(hub.url, undefined).openFile('Org/Name', 'main', 'model.gguf', WEIGHTS.length);
    expect([opened.response.status, opened.totalBytes]).toEqual([416, WEIGHTS.length]);
  });

  it.each([
    ['a gated repo without a token', undefined, 'Org/Gated', 'main', 'model.gguf', /gated or private and needs a token: set HF_TOKEN .*\(401 GatedRepo: Access to model Org\/Gated is restricted/],
    ['a token the hub refuses', 'hf_wrong', 'Org/Gated', 'main', 'model.gguf', /the hub refused the token in HF_TOKEN \(401 GatedRepo/],
    ['an unknown file', undefined, 'Org/Name', 'main', 'nope.bin', /nope\.bin: not found on http.*\(404 EntryNotFound/],
    ['an unknown revision', undefined, 'Org/Name', 'v9', 'model.gguf', /not found on .*\(404 RevisionNotFound: Invalid rev id: v9\)/],
    ['an unknown repo', undefined, 'Org/Nothing', 'main', 'model.gguf', /no such repo on .*, or it is private \(then set HF_TOKEN\) \(401 RepoNotFound/],
  ])('%s is a CliError that says what to do', async (_case, token, repo, revision, file, message) => {
    const error = await failure(new HubClient(hub.url, token).openFile(repo, revision, file, 0));
    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toMatch(message);
    if (token) expect(error.message).not.toContain(token);
  });

  it('an unreachable hub is a CliError naming it', async () => {
    const closed = await startFakeHub({ repos: {} });
    await closed.close();
    const error = await failure(new HubClient(closed.url, undefined).listFiles('Org/Name', 'main'));
    expect(error.message).toBe(`Org/Name@main: cannot reach ${closed.url} (ECONNREFUSED)`);
  });
});
