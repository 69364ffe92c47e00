/**
 * A real S3 server for tests: `s3rver` on a free loopback port with a temporary directory, stoppable and restartable on
 * the same port and directory (objects survive, as with a real outage). Each server registers its own random key
 * pair, so a test can prove that neither key ever reaches a log line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './servers.js';

/** What the tests use of s3rver (it ships no type declarations). */
interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<void>;
  on(event: 'event', listener: (e: S3rverEvent) => void): void;
  httpServer?: Server;
}
interface S3rverEvent {
  Records: { eventName: string; s3: { object: { key: string } } }[];
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;
interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
}

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverCtor;
const accounts = require('s3rver/lib/models/account.js') as S3rverAccounts;

export class S3TestServer {
  readonly directory = mkdtempSync(join(tmpdir(), 'levelflow-s3-'));
  readonly accessKeyId = `AKTEST${randomBytes(6).toString('hex').toUpperCase()}`;
  readonly secretAccessKey = `sk-${randomBytes(18).toString('base64url')}`;
  /** Objects created (PUT, POST, copy, completed multipart) by key, counted by the server. */
  readonly puts = new Map<string, number>();
  /** Every request received (method and URL), in order: tests watch it to act in the middle of an upload. */
  readonly requests: { method: string; url: string }[] = [];
  private server: S3rverInstance | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(readonly port: number) {
    accounts.DUMMY_ACCOUNT.createKeyPair(this.accessKeyId, this.secretAccessKey);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  get totalPuts(): number {
    let n = 0;
    for (const c of this.puts.values()) n += c;
    return n;
  }

  static async start(buckets: readonly string[] = []): Promise<S3TestServer> {
    const s = new S3TestServer(await freePort());
    await s.run(buckets);
    return s;
  }

  private async run(buckets: readonly string[] = []): Promise<void> {
    const server = new S3rver({
      port: this.port,
      address: '127.0.0.1',
      silent: true,
      directory: this.directory,
      configureBuckets: buckets.map((name) => ({ name })),
    });
    server.on('event', (e) => {
      for (const r of e.Records) {
        if (!r.eventName.startsWith('ObjectCreated')) continue;
        const key = r.s3.object.key;
        this.puts.set(key, (this.puts.get(key) ?? 0) + 1);
      }
    });
    await server.run();
    // Keep-alive sockets would hold `close()` open forever; an outage must cut them, so remember them all.
    server.httpServer?.on('request', (req: { method?: string; url?: string }) =>
      this.requests.push({ method: req.method ?? '', url: req.url ?? '' }),
    );
    server.httpServer?.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server = server;
  }

  /** Stop the server as an outage would: listening socket closed, open connections cut. Objects stay on disk. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = server.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Start again on the same port and directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.run();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
