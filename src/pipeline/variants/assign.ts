import { createHash } from 'node:crypto';

export interface WeightedVariant {
  name: string;
  weight: number;
}

/**
 * The variant of a caller, the same on every replica and every request: weighted rendezvous
 * hashing (each variant scores `weight / -ln(u)`, u a hash of the variant and the caller in
 * (0, 1); the highest wins, so a variant wins a share of callers proportional to its weight).
 * Unlike cutting one hash into ranges, taking a variant out moves only its own callers: everyone
 * else keeps theirs. Hand-written: the few lines are the whole algorithm, no package to keep.
 */
export function assignVariant(stickyKey: string, variants: readonly WeightedVariant[]): string | undefined {
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const { name, weight } of variants) {
    if (weight <= 0) continue;
    const digest = createHash('sha256').update(name).update('\0').update(stickyKey).digest();
    const u = (digest.readUInt32BE(0) + 0.5) / 2 ** 32;
    const score = weight / -Math.log(u);
    if (score > bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best;
}
