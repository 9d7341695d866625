/** What node-postgres throws when the server drops the connection under a query (a crash, a failover). */
function connectionLost(): Error {
  return new Error('Connection terminated unexpectedly');
}

/** Which methods of a store or ledger fail the way a database that went away makes them fail. */
export interface Outage {
  /** Fail before reaching the database: nothing is written. */
  down: Set<string>;
  /** Reach it (and commit), then lose the answer: once each, as when the server dies right after the COMMIT. */
  loseAnswer: Set<string>;
}

export const noOutage = (): Outage => ({ down: new Set(), loseAnswer: new Set() });

/** `target` with every method subject to `outage`, changeable while the test runs. */
export function withOutage<T extends object>(target: T, outage: Outage): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      const name = String(property);
      return async (...args: unknown[]) => {
        if (outage.down.has(name)) throw connectionLost();
        const result: unknown = await value.apply(object, args);
        if (outage.loseAnswer.delete(name)) throw connectionLost();
        return result;
      };
    },
  });
}
