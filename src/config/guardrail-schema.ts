import { z } from 'zod';

/** What happens to a key's chat requests: its own `moderation`, field by field, else `guardrails.moderation`'s. */
export const moderationActions = z.strictObject({
  /**
   * The caller's last turn, before any model sees it. off; block: a flagged request is refused
   * (400, code `content_filter`); route: it is answered by `route_to` instead of its own model.
   */
  input: z.enum(['off', 'block', 'route']).optional(),
  /** The answer, before the caller sees it. off; block: a flagged answer is withheld (finish_reason `content_filter`); a stream is read whole first. */
  output: z.enum(['off', 'block']).optional(),
  /** The chat model flagged input goes to with `input: route`. */
  route_to: z.string().min(1).optional(),
});
export type ModerationActions = z.infer<typeof moderationActions>;

/** Moderation of chat traffic by a configured `moderate` model (POST /v1/moderations' own). Off unless a setting turns it on. */
export const guardrailsSchema = z
  .strictObject({
    moderation: moderationActions
      .extend({
        /** A configured model with `moderate`; the first such model when left out. */
        model: z.string().min(1).optional(),
        /** When the moderation model cannot answer (weights missing, a failure): allow the request through, or refuse it (503). */
        on_error: z.enum(['allow', 'block']).default('allow'),
      })
      .prefault({}),
  })
  .prefault({});
export type GuardrailsConfig = z.infer<typeof guardrailsSchema>;

interface GuardedConfig {
  guardrails: GuardrailsConfig;
  models: readonly { id: string; capabilities: readonly string[] }[];
  auth: { keys: readonly { moderation?: ModerationActions }[] };
}

/** Start-up checks: a named model that can moderate, one to do it when any key turns moderation on, a chat model to route to. */
export function checkGuardrails(config: GuardedConfig, context: z.RefinementCtx): void {
  const global = config.guardrails.moderation;
  const canDo = (id: string | undefined, capability: string) => config.models.some((model) => model.id === id && model.capabilities.includes(capability));
  if (global.model !== undefined && !canDo(global.model, 'moderate')) {
    context.addIssue({ code: 'custom', path: ['guardrails', 'moderation', 'model'], message: `"${global.model}" is not a configured model with the moderate capability` });
  }
  const settings: { path: (string | number)[]; actions: ModerationActions }[] = [
    { path: ['guardrails', 'moderation'], actions: global },
    ...config.auth.keys.flatMap((key, index) => (key.moderation ? [{ path: ['auth', 'keys', index, 'moderation'], actions: key.moderation }] : [])),
  ];
  const hasModerator = config.models.some((model) => model.capabilities.includes('moderate'));
  for (const { path, actions } of settings) {
    const isOn = (actions.input ?? 'off') !== 'off' || (actions.output ?? 'off') !== 'off';
    if (isOn && !hasModerator) context.addIssue({ code: 'custom', path, message: 'moderation is on but no configured model has the moderate capability' });
    const routeTo = actions.route_to ?? global.route_to;
    if (actions.input === 'route' && !canDo(routeTo, 'chat')) {
      context.addIssue({ code: 'custom', path: [...path, 'route_to'], message: routeTo ? `"${routeTo}" is not a configured chat model` : 'input: route needs route_to, a configured chat model' });
    }
  }
}
