// The audit log file as kube-apiserver writes it (--audit-log-path, through lumberjack): one line
// each event, appended synchronously so that events are in order and on disk when the response
// goes out (the blocking mode); the file is rotated when a line would take it past maxsize MB
// (100 when 0), renamed to <name>-<UTC time>.<ext>, and old copies beyond maxbackup or older than
// maxage days are removed (0: no limit). "-" writes to standard output.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

export interface AuditLogOptions {
  path: string;
  maxAgeDays?: number;
  maxBackups?: number;
  maxSizeMB?: number;
}

const MB = 1024 * 1024;

export class AuditLogWriter {
  private readonly opts: AuditLogOptions;
  private fd?: number;
  private size = 0;

  constructor(opts: AuditLogOptions) {
    this.opts = opts;
  }

  private get maxBytes(): number {
    return (this.opts.maxSizeMB || 100) * MB;
  }

  write(line: string): void {
    const data = Buffer.from(line.endsWith('\n') ? line : `${line}\n`);
    if (this.opts.path === '-') {
      writeSync(1, data);
      return;
    }
    if (this.fd === undefined) this.open();
    if (this.size + data.length > this.maxBytes && this.size > 0) this.rotate();
    writeSync(this.fd!, data);
    this.size += data.length;
  }

  private open(): void {
    this.fd = openSync(this.opts.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /** lumberjack's backup name: the time of rotation in UTC, 2006-01-02T15-04-05.000. */
  static backupName(path: string, at: Date): string {
    const ext = extname(path);
    const stem = basename(path, ext);
    const t = at.toISOString().replace(/:/g, '-').replace('Z', '');
    return join(dirname(path), `${stem}-${t}${ext}`);
  }

  private rotate(): void {
    closeSync(this.fd!);
    this.fd = undefined;
    let target = AuditLogWriter.backupName(this.opts.path, new Date());
    // Two rotations in one millisecond would collide: never overwrite a backup.
    for (let i = 1; existsSync(target); i++) target = AuditLogWriter.backupName(this.opts.path, new Date(Date.now() + i));
    renameSync(this.opts.path, target);
    this.open();
    this.prune();
  }

  /** Removes backups beyond the count and age limits, oldest first. */
  private prune(): void {
    const { maxBackups = 0, maxAgeDays = 0 } = this.opts;
    if (!maxBackups && !maxAgeDays) return;
    const ext = extname(this.opts.path);
    const stem = basename(this.opts.path, ext);
    const dir = dirname(this.opts.path);
    const backups = readdirSync(dir)
      .filter((f) => f.startsWith(`${stem}-`) && f.endsWith(ext) && f !== basename(this.opts.path))
      .map((f) => ({ file: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime || (b.file < a.file ? -1 : 1));
    const cutoff = Date.now() - maxAgeDays * 86_400_000;
    backups.forEach((b, i) => {
      if ((maxBackups && i >= maxBackups) || (maxAgeDays && b.mtime < cutoff)) unlinkSync(b.file);
    });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
