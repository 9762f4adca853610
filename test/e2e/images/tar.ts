// The tar writer moved to src/agent/images/tar.ts (Ordinal builds its own pause image with it).
export * from '../../../src/agent/images/tar.ts';
