// etcd settings that `ordinal`'s flags read on every start, etcd or not. They live apart from the
// modules that use them: importing compactor.ts for its default loaded protobufjs and parsed
// etcd's .proto files at every start (some 40 files and tens of milliseconds).
export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60 * 1000;
