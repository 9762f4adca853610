// Registry strategies per kind. Kinds without special rules use the generic strategy.
import type { Strategy } from '../resource.ts';
import { genericStrategy } from './generic.ts';

const strategies: Record<string, Strategy> = {};

export function strategyFor(kind: string): Strategy {
  return strategies[kind] ?? genericStrategy;
}
