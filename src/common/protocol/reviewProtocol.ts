/**
 * Messages the escalation review webview posts back (style rule 5: one file both sides import). The extension
 * parses them (rule 6): anything else is ignored, and only `send` sends.
 */
import * as z from 'zod/mini';

export const reviewToHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('send') }),
  z.object({ type: z.literal('cancel') }),
]);

export type ReviewToHost = z.infer<typeof reviewToHostSchema>;
