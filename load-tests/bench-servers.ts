/**
 * Child-process entry for the benchmarks: the loopback OpenAI-protocol upstream, in a process
 * (and event loop) of its own. Reports its URL and key over IPC.
 */
import { startFakeOpenAI } from '../test/fakes/fake-openai.js';

const fake = await startFakeOpenAI();
process.send!({ url: fake.url, apiKey: fake.apiKey });
