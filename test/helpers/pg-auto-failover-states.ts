/**
 * How a test reads a pg_auto_failover cluster's state, wherever it runs (nodes on loopback in test/ha, database
 * guests in test/guests): the same SQL, and the same rule for "a primary with its synchronous standby".
 */

/** The monitor's view of one node. */
export interface NodeState {
  name: string;
  port: number;
  goal: string;
  reported: string;
}

/** On the monitor (database pg_auto_failover): every node's state, in node id order. */
export const NODE_STATES_SQL = `SELECT nodename AS name, nodeport AS port, goalstate::text AS goal, reportedstate::text AS reported
                                FROM pgautofailover.node ORDER BY nodeid`;

/** On a primary: how many standbys stream to it synchronously, as `n` (1 once the pair is whole again). */
export const SYNC_STANDBYS_SQL =
  "SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum')";

/**
 * The primary and the standby once the monitor's goal and each node's reported state agree for both; undefined
 * before. Whether the standby streams synchronously is for the primary to say (SYNC_STANDBYS_SQL).
 */
export function settledPair(states: NodeState[]): { primary: NodeState; standby: NodeState } | undefined {
  const primary = states.find((s) => s.goal === 'primary' && s.reported === 'primary');
  const standby = states.find((s) => s.goal === 'secondary' && s.reported === 'secondary');
  return primary && standby ? { primary, standby } : undefined;
}
