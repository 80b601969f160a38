import { createHash } from 'node:crypto';
import { messageText, type ChatRequest } from '../../adapters/spec/index.js';
import type { Tenant } from '../auth/tenant.js';

/**
 * Where a caller falls in the rollout, 0..1, the same on every request: the `user` field, else
 * the key's tenant, else the conversation's first message. A draw per request would flip one
 * conversation between the local model and a vendor from turn to turn.
 */
export function stickyDraw(request: Pick<ChatRequest, 'user' | 'messages'>, tenant: Tenant): number {
  const identity = request.user ? `user:${request.user}` : tenant.id !== 'open' ? `tenant:${tenant.id}` : `first:${messageText(request.messages[0]?.content)}`;
  const digest = createHash('sha256').update(identity).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}
