/**
 * Real servers for integration tests: each test file starts its own `nats-server -js` (or S3 server) on a free
 * loopback port with a temporary store, and stops it afterwards. When the binary is missing the tests are skipped
 * with a visible notice on a developer's machine and fail under CI=true, so CI can never pass by skipping them.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Is `nats-server` installed? Under CI a missing server is an error, never a skip. */
export function natsServerAvailable(): boolean {
  const found = spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!found) {
    if (process.env['CI'] === 'true') throw new Error('nats-server is not installed (required under CI=true)');
    console.warn('NOTICE: nats-server not found — NATS integration tests are SKIPPED (apt-get install nats-server)');
  }
  return found;
}

export class NatsTestServer {
  private proc: ChildProcess | undefined;
  readonly storeDir = mkdtempSync(join(tmpdir(), 'levelflow-nats-'));

  private constructor(readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<NatsTestServer> {
    const s = new NatsTestServer(await freePort());
    await s.startProcess();
    return s;
  }

  private async startProcess(): Promise<void> {
    this.proc = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir], {
      stdio: 'ignore',
    });
    await waitForPort(this.port);
  }

  /** Stop the server process (the store survives, as on a real restart). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    this.proc = undefined;
  }

  /** Kill the server with SIGKILL, as a crash would: no shutdown, no flush. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
    this.proc = undefined;
  }

  /** Stop (if running) and start again on the same port and store; after `kill()` this is the recovery. */
  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
