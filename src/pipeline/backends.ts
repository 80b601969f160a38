import { SluiceError, type Adapter, type CallOptions, type Capability } from '../../adapters/spec/index.js';
import type { ModelConfig } from '../config/schema.js';
import type { BackendView } from '../routing/model-catalog.js';
import type { Candidate } from '../routing/candidates.js';

type Method = 'chat' | 'chatStream' | 'embed' | 'transcribe' | 'ocr' | 'moderate' | 'classify' | 'rerank';
const METHOD_OF: Readonly<Record<Method, Capability>> = { chat: 'chat', chatStream: 'stream', embed: 'embed', transcribe: 'transcribe', ocr: 'ocr', moderate: 'moderate', classify: 'classify', rerank: 'rerank' };

/** The live adapters by backend id, with their timeouts: the only place the pipeline finds an adapter. */
export class Backends implements BackendView {
  constructor(
    private readonly adapters: ReadonlyMap<string, Adapter>,
    private readonly timeoutsMs: Readonly<Record<string, number>>,
  ) {}

  isAvailable(backendId: string): boolean {
    return this.adapters.has(backendId);
  }

  isLocal(backendId: string): boolean {
    return this.adapters.get(backendId)?.location === 'local';
  }

  /** The x-sluice-route of an answer from this candidate: `local`, or the vendor's backend id. */
  routeOf(candidate: Candidate): string {
    return this.isLocal(candidate.backendId) ? 'local' : candidate.backendId;
  }

  callOptions(candidate: Candidate, context: { requestId: string; signal: AbortSignal }): CallOptions {
    return { requestId: context.requestId, signal: context.signal, timeoutMs: this.timeoutsMs[candidate.backendId] ?? 60_000 };
  }

  /**
   * A candidate's adapter method, bound. Model capabilities are checked against their adapters
   * when the gateway is built (`capabilityProblems`), so a missing one here is a bug, said clearly.
   */
  method<M extends Method>(candidate: Candidate, name: M): NonNullable<Adapter[M]> {
    const adapter = this.adapters.get(candidate.backendId);
    const method = adapter?.[name];
    if (!adapter || typeof method !== 'function') {
      throw new SluiceError('internal', `backend "${candidate.backendId}" cannot ${METHOD_OF[name]} for model '${candidate.modelId}'`);
    }
    return method.bind(adapter) as NonNullable<Adapter[M]>;
  }

  /** Whether this backend may answer now: false for a local model that loaded without its weights. */
  canServe(backendId: string): boolean {
    const adapter = this.adapters.get(backendId);
    return adapter !== undefined && (adapter.canServe?.() ?? true);
  }

  /** How long a request arriving now would wait for a slot of this backend; undefined when it does not say. */
  expectedWaitMs(backendId: string): number | undefined {
    return this.adapters.get(backendId)?.load?.().expectedWaitMs;
  }

  load(): { backend: string; active: number; queued: number; expectedWaitMs?: number }[] {
    return [...this.adapters.values()].flatMap((adapter) => (adapter.load ? [{ backend: adapter.id, ...adapter.load() }] : []));
  }
}

/**
 * A capability is declared once, on the model; the adapter says what its code implements. A model
 * that claims more than its backend's adapter can do is a config error, named by its field.
 */
export function capabilityProblems(models: readonly ModelConfig[], adapters: ReadonlyMap<string, Adapter>): string[] {
  const problems: string[] = [];
  models.forEach((model, index) => {
    const adapter = adapters.get(model.backend);
    if (!adapter) return; // not keyed: never a candidate
    model.capabilities.forEach((capability, position) => {
      if (!adapter.capabilities.has(capability)) {
        problems.push(`models[${index}].capabilities[${position}]: the backend "${model.backend}" cannot "${capability}" (it can: ${[...adapter.capabilities].join(', ')})`);
      }
    });
  });
  return problems;
}
