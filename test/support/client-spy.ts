// A client whose chosen methods pass through a test's wrapper (to count or record calls, or see
// how many are under way at once); every other method is the inner client's own.
import type { Client } from '../../src/client/client.ts';

type Method = 'get' | 'patch' | 'delete';
export type Wrappers = {
  [M in Method]?: (inner: Client[M], ...args: Parameters<Client[M]>) => ReturnType<Client[M]>;
};

export function spyClient(inner: Client, wrappers: Wrappers): Client {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const wrap = wrappers[prop as Method] as ((inner: unknown, ...args: unknown[]) => unknown) | undefined;
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const own = v.bind(target);
      return wrap ? (...args: unknown[]) => wrap(own, ...args) : own;
    },
  });
}
