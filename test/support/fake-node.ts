// A node whose "containers" are processes on this machine, for the streaming tests: exec runs the
// command here, port-forward connects to local TCP servers (ports mapped in `ports`), logs are a
// fixed text or, with follow, a tick every 50 ms. It records what it was asked.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { ApiError } from '../../src/apiserver/errors.ts';
import type { ExecOptions, LogOptions, NodeStreaming, PodRef, StreamOptions, StreamSession, TerminalSize } from '../../src/streaming/types.ts';

/** The kubelet's answer for a container that does not run (as src/agent/streaming.ts gives it). */
const containerNotFound = (name: string) => new ApiError(500, 'InternalError', `container not found (${JSON.stringify(name)})`);

/** A node whose "containers" are processes on this machine; a container named "stopped" does not run. */
export class FakeNode implements NodeStreaming {
  execs: { pod: PodRef; container: string; opts: ExecOptions }[] = [];
  logCalls: LogOptions[] = [];
  resizes: TerminalSize[] = [];
  followDestroyed = false;
  aborted = 0;
  ports = new Map<number, number>();

  async exec(pod: PodRef, container: string, opts: ExecOptions): Promise<StreamSession> {
    this.execs.push({ pod, container, opts });
    if (container === 'stopped') throw containerNotFound(container);
    if (opts.command[0] === 'no-such-command') throw new ApiError(500, 'InternalError', 'Internal error occurred: exec: "no-such-command": executable file not found in $PATH');
    return this.run(opts.command, opts);
  }

  async attach(_pod: PodRef, container: string, opts: StreamOptions): Promise<StreamSession> {
    if (container === 'stopped') throw containerNotFound(container);
    return this.run(['cat'], opts);
  }

  private run(command: string[], opts: StreamOptions): StreamSession {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    if (!opts.stdin) child.stdin.end();
    // Node drains a child's unread output when it exits; the node's session keeps it until the client reads.
    const keep = (r: Readable) => r.pipe(new PassThrough());
    // A TTY merges stderr into stdout, as a terminal would.
    let stdout: Readable = keep(child.stdout);
    if (opts.tty) {
      const merged = new PassThrough();
      let open = 2;
      const done = () => --open === 0 && merged.end();
      child.stdout.on('data', (d) => merged.write(d)).on('end', done);
      child.stderr.on('data', (d) => merged.write(d)).on('end', done);
      stdout = merged;
    }
    return {
      stdin: opts.stdin ? child.stdin : undefined,
      stdout: opts.stdout ? stdout : (stdout.resume(), undefined),
      stderr: opts.tty ? undefined : opts.stderr ? keep(child.stderr) : (child.stderr.resume(), undefined),
      resize: (s) => this.resizes.push(s),
      exit: new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, signal) => resolve(code ?? (signal ? 137 : 1)));
      }),
      abort: () => {
        this.aborted++;
        child.kill('SIGKILL');
      },
    };
  }

  async portForward(_pod: PodRef, port: number): Promise<Duplex> {
    const target = this.ports.get(port) ?? 1; // port 1 on loopback: connection refused
    return new Promise((resolve, reject) => {
      const s = net.connect(target, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  }

  async logs(_pod: PodRef, opts: LogOptions): Promise<Readable> {
    this.logCalls.push(opts);
    if (!opts.follow) return Readable.from([`options ${JSON.stringify(opts)}\n`, 'line 1\nline 2\n']);
    let n = 0;
    const r = new Readable({ read() {} });
    const timer = setInterval(() => r.push(`tick ${++n}\n`), 50);
    r.on('close', () => {
      clearInterval(timer);
      this.followDestroyed = true;
    });
    return r;
  }
}
