import { z } from 'zod';

/** Why one shard (or Redis) could not do its part: a numbered code and one line for people. */
export const problemSchema = z.object({ code: z.number().int(), message: z.string() });
export type Problem = z.infer<typeof problemSchema>;

/**
 * A shard a multi-shard read could not read. Answers that merge every shard's rows carry these, so a console page
 * or a command can say the result is partial instead of showing only the other shards as if they were all.
 */
export const unreadShardSchema = z.object({ shard: z.number().int().nonnegative(), shardName: z.string(), problem: problemSchema });
export type UnreadShard = z.infer<typeof unreadShardSchema>;
