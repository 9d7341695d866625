import type { Replica } from './replica';

/**
 * Chooses the replica for each attempt of a call. A call carries the replicas it already tried as a bit mask (a
 * number, so choosing allocates nothing). Preference: in rotation before ejected, not yet tried before tried, then
 * the fewest requests outstanding; ties go round-robin, starting after the replica chosen last.
 *
 * When every replica is ejected, calls still go to them (the least bad first) rather than failing without trying:
 * with one replica this is exactly the single-upstream behaviour, and a replica that is back answers at once
 * instead of after the next probe.
 */
export class ReplicaSet {
  private cursor = 0;

  constructor(readonly replicas: readonly Replica[]) {}

  choose(tried: number): Replica {
    const { replicas } = this;
    const n = replicas.length;
    if (n === 1) return replicas[0];
    let best = replicas[this.cursor];
    let bestRank = Infinity;
    for (let k = 0; k < n; k++) {
      const replica = replicas[(this.cursor + k) % n];
      const rank = (replica.ejected ? 2 : 0) + ((tried & replica.bit) !== 0 ? 1 : 0);
      if (rank < bestRank || (rank === bestRank && replica.inFlight < best.inFlight)) {
        best = replica;
        bestRank = rank;
      }
    }
    this.cursor = (best.index + 1) % n;
    return best;
  }

  /** True when a replica in rotation is not in `tried`: worth keeping time back for a retry there. */
  hasUntried(tried: number): boolean {
    for (const replica of this.replicas) {
      if (!replica.ejected && (tried & replica.bit) === 0) return true;
    }
    return false;
  }
}
