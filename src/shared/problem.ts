import { z } from 'zod';

/** Why one shard (or Redis) could not do its part: a numbered code and one line for people. */
export const problemSchema = z.object({ code: z.number().int(), message: z.string() });
export type Problem = z.infer<typeof problemSchema>;
