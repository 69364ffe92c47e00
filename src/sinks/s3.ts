/**
 * S3 mirror of the lake (DATA.md §5.9). Local disk is the source of truth; every committed lake file is copied to
 * `s3://{S3_BUCKET}/{path relative to DATA_ROOT}` (same key layout, `_meta/` included) in the background.
 *
 * - Persistent queue: `enqueue()` first writes `_meta/s3_pending/{sha1(path)}.json` atomically, so an upload that a
 *   crash or an S3 outage interrupted is picked up by the next `start()`. The marker is removed only after the object
 *   is verified.
 * - Only what is missing: before uploading, a HEAD compares the remote object with the local file; an identical
 *   object is not sent again. Remote objects are never deleted.
 * - Verified: after the upload a HEAD must show the local size, the local SHA-256 in the object metadata (`sha256`,
 *   set by us) and an ETag the server computed from the bytes it stored — MD5 of the file for a single PUT; for a
 *   multipart upload either the standard MD5-of-part-MD5s-`N` or, as s3rver does, MD5 of the whole file.
 * - Large files go up in 8 MiB parts (`@aws-sdk/lib-storage`) from a stream, so memory stays bounded.
 * - Failed attempts are retried with capped exponential backoff and jitter; uploads run with bounded concurrency and
 *   never block the caller (ingestion, acks).
 * - Credentials come from the configuration (the environment), are handed to the SDK through a provider closure and
 *   never reach a log line; error messages are scrubbed of them too.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CONFIG, REDACTED, redactUrl } from '../common/config.js';
import type { Config } from '../common/config.js';
import { commitRename, removeQuietly, writeFileSynced } from './parquet/fs.js';

export interface MirrorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface S3MirrorOptions {
  /** Default `CONFIG.DATA_ROOT`. */
  readonly dataRoot?: string;
  /** Default `CONFIG.S3_ENDPOINT`. */
  readonly endpoint?: string;
  /** Default `CONFIG.S3_BUCKET`. */
  readonly bucket?: string;
  /** Default `CONFIG.S3_ACCESS_KEY` / `CONFIG.S3_SECRET_KEY`. */
  readonly accessKeyId?: string | null;
  readonly secretAccessKey?: string | null;
  /** Signing region; MinIO and s3rver accept any (default `us-east-1`). */
  readonly region?: string;
  /** Uploads running at once (default 2). */
  readonly concurrency?: number;
  /** Multipart part size in bytes (default 8 MiB; S3's minimum is 5 MiB). */
  readonly partSizeBytes?: number;
  /** Files at least this large go up in parts (default 16 MiB). */
  readonly multipartThresholdBytes?: number;
  /** First retry delay in ms (default 500), doubled per attempt up to `retryCapMs` (default 30 s). */
  readonly retryBaseMs?: number;
  readonly retryCapMs?: number;
  /** Attempts per file before it is counted failed and left for the next `start()`/`syncAll()` (default 12). */
  readonly maxAttempts?: number;
  /** Socket inactivity limit per request in ms (default 60 s). */
  readonly requestTimeoutMs?: number;
  readonly logger?: MirrorLogger;
}

export interface S3MirrorStats {
  /** Files sent (PUT or completed multipart upload). */
  uploaded: number;
  /** Files whose remote object was checked identical to the local file (after upload, or already there). */
  verified: number;
  /** Files found identical remotely and therefore not sent. */
  skipped: number;
  /** Attempts that failed and were scheduled again. */
  retried: number;
  /** Files given up on after `maxAttempts` (their marker stays) or missing locally. */
  failed: number;
}

/** Where pending uploads are persisted, relative to DATA_ROOT. */
export const S3_PENDING_DIR = '_meta/s3_pending';

/** Local bookkeeping that is not part of the lake and is never mirrored. */
const PRIVATE_DIRS = [S3_PENDING_DIR, '_meta/lake_consumer', 'wal', '_staging'];
const MIRRORED_FILE = /\.(parquet|json|ya?ml)$/;

const MiB = 1024 * 1024;
const silent: MirrorLogger = { info() {}, warn() {}, error() {} };

class VerificationError extends Error {
  override readonly name = 'VerificationError';
}

interface LocalDigest {
  readonly size: number;
  readonly sha256: string;
  /** ETags a correct server may report for the bytes (quotes stripped). */
  readonly etags: ReadonlySet<string>;
  /** The bytes themselves for single-PUT files: what was hashed is exactly what is sent. */
  readonly body: Buffer | null;
}

export class S3Mirror {
  readonly dataRoot: string;
  readonly bucket: string;
  readonly stats: S3MirrorStats = { uploaded: 0, verified: 0, skipped: 0, retried: 0, failed: 0 };

  private readonly client: S3Client;
  private readonly endpointForLogs: string;
  /** Replaces the credentials in a text; a closure, so the keys are no property of the mirror. */
  private readonly redactSecrets: (text: string) => string;
  private readonly log: MirrorLogger;
  private readonly concurrency: number;
  private readonly partSize: number;
  private readonly threshold: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private readonly maxAttempts: number;

  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Map<string, AbortController>();
  /** Enqueued again while being uploaded (a rewritten manifest): upload once more afterwards. */
  private readonly again = new Set<string>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly sleeps = new Set<() => void>();
  private running = false;
  private tempSerial = 0;
  private bucketReady: Promise<void> | null = null;

  constructor(options: S3MirrorOptions = {}, config: Config = CONFIG) {
    this.dataRoot = path.resolve(options.dataRoot ?? config.DATA_ROOT);
    this.bucket = options.bucket ?? config.S3_BUCKET;
    const endpoint = options.endpoint ?? config.S3_ENDPOINT;
    this.endpointForLogs = redactUrl(endpoint);
    const accessKeyId = options.accessKeyId ?? config.S3_ACCESS_KEY;
    const secretAccessKey = options.secretAccessKey ?? config.S3_SECRET_KEY;
    if (!accessKeyId || !secretAccessKey) throw new Error('S3 mirror needs S3_ACCESS_KEY and S3_SECRET_KEY');
    this.redactSecrets = (text) => text.replaceAll(accessKeyId, REDACTED).replaceAll(secretAccessKey, REDACTED);
    this.log = options.logger ?? silent;
    this.concurrency = positive('concurrency', options.concurrency ?? 2);
    this.partSize = positive('partSizeBytes', options.partSizeBytes ?? 8 * MiB);
    if (this.partSize < 5 * MiB) throw new RangeError('partSizeBytes must be ≥ 5 MiB (the S3 minimum)');
    this.threshold = positive('multipartThresholdBytes', options.multipartThresholdBytes ?? 16 * MiB);
    this.retryBaseMs = positive('retryBaseMs', options.retryBaseMs ?? 500);
    this.retryCapMs = positive('retryCapMs', options.retryCapMs ?? 30_000);
    this.maxAttempts = positive('maxAttempts', options.maxAttempts ?? 12);
    const timeout = options.requestTimeoutMs ?? 60_000;
    this.client = new S3Client({
      endpoint,
      region: options.region ?? 'us-east-1',
      forcePathStyle: true,
      // A provider closure instead of a plain object: the keys are not properties anyone can log or inspect.
      credentials: () => Promise.resolve({ accessKeyId, secretAccessKey }),
      // Our own retry loop owns backoff and counting; the SDK's would multiply attempts.
      maxAttempts: 1,
      // MinIO and s3rver do not understand the SDK's default aws-chunked trailing checksums; we verify ourselves.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5_000, requestTimeout: timeout },
    });
  }

  /** Files queued or uploading. */
  get pending(): number {
    return this.queue.length + this.active.size;
  }

  /**
   * Persist a pending upload of `relPath` (relative to DATA_ROOT, `/`-separated) and queue it. Resolves once the
   * marker is durable; the upload itself runs in the background.
   */
  async enqueue(relPath: string): Promise<void> {
    const rel = this.normalise(relPath);
    const dir = path.join(this.dataRoot, ...S3_PENDING_DIR.split('/'));
    await mkdir(dir, { recursive: true });
    const marker = this.markerPath(rel);
    const tmp = `${path.join(dir, `.${path.basename(marker)}`)}.${process.pid}.${++this.tempSerial}.tmp`;
    await writeFileSynced(tmp, Buffer.from(JSON.stringify({ path: rel, enqueued_at: new Date().toISOString() })));
    await commitRename(tmp, marker);
    this.push(rel);
  }

  /** Load the persisted queue and start uploading in the background; S3 being down does not delay the caller. */
  async start(): Promise<void> {
    this.running = true;
    const dir = path.join(this.dataRoot, ...S3_PENDING_DIR.split('/'));
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (name.startsWith('.') || !name.endsWith('.json')) continue;
      try {
        const { path: rel } = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as { path: string };
        this.push(this.normalise(rel));
      } catch (err) {
        this.log.warn({ marker: name, err: this.scrub(err) }, 's3 mirror: unreadable pending marker ignored');
      }
    }
    this.log.info(
      { endpoint: this.endpointForLogs, bucket: this.bucket, pending: this.queue.length },
      's3 mirror started',
    );
    this.pump();
  }

  /** Resolves when nothing is queued or uploading (failed files are out of the queue, their markers kept). */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stop for good (the S3 client is released): in-flight uploads are aborted and their markers stay, so the next
   * mirror's `start()` resumes them.
   */
  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.sleeps) wake();
    for (const ctl of this.active.values()) ctl.abort();
    while (this.active.size > 0) await new Promise((r) => setTimeout(r, 10));
    this.client.destroy();
    this.log.info({ ...this.stats, pending: this.queue.length }, 's3 mirror stopped');
  }

  /**
   * Queue every lake file (`*.parquet`, manifests and other JSON/YAML metadata) that is not yet in the bucket or
   * differs in size. Manifests are rewritten in place, so they are always queued; the pre-upload HEAD skips the ones
   * already identical. Returns the number of files queued.
   */
  async syncAll(): Promise<number> {
    let remote: Map<string, number> | null;
    try {
      remote = await this.listRemote();
    } catch (err) {
      // S3 unreachable: queue everything; each upload's HEAD still skips what is already there.
      this.log.warn({ err: this.scrub(err) }, 's3 mirror: cannot list the bucket, queueing every lake file');
      remote = null;
    }
    let n = 0;
    for (const rel of await this.localFiles()) {
      const size = remote?.get(rel);
      if (rel.endsWith('.parquet') && size !== undefined && size === (await stat(path.join(this.dataRoot, rel))).size)
        continue;
      await this.enqueue(rel);
      n++;
    }
    this.log.info({ queued: n, remote: remote?.size ?? null }, 's3 mirror: sync queued missing files');
    return n;
  }

  private async listRemote(): Promise<Map<string, number>> {
    await this.ensureBucket();
    const remote = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) if (o.Key !== undefined) remote.set(o.Key, o.Size ?? -1);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return remote;
  }

  private async localFiles(): Promise<string[]> {
    const entries = await readdir(this.dataRoot, { recursive: true, withFileTypes: true }).catch(() => []);
    const out: string[] = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.startsWith('.') || !MIRRORED_FILE.test(e.name)) continue;
      const rel = path.relative(this.dataRoot, path.join(e.parentPath, e.name)).split(path.sep).join('/');
      if (PRIVATE_DIRS.some((d) => rel.startsWith(`${d}/`))) continue;
      out.push(rel);
    }
    return out.sort();
  }

  private normalise(relPath: string): string {
    const rel = relPath.split(path.sep).join('/').replace(/^\/+/, '');
    const abs = path.resolve(this.dataRoot, rel);
    if (rel === '' || !abs.startsWith(this.dataRoot + path.sep))
      throw new Error(`s3 mirror: ${relPath} is not a file under DATA_ROOT`);
    return rel;
  }

  private markerPath(rel: string): string {
    const id = createHash('sha1').update(rel).digest('hex');
    return path.join(this.dataRoot, ...S3_PENDING_DIR.split('/'), `${id}.json`);
  }

  private push(rel: string): void {
    if (this.active.has(rel)) this.again.add(rel);
    else if (!this.queued.has(rel)) {
      this.queued.add(rel);
      this.queue.push(rel);
    }
    this.pump();
  }

  private pump(): void {
    while (this.running && this.active.size < this.concurrency && this.queue.length > 0) {
      const rel = this.queue.shift()!;
      this.queued.delete(rel);
      const ctl = new AbortController();
      this.active.set(rel, ctl);
      void this.run(rel, ctl.signal).finally(() => {
        this.active.delete(rel);
        if (this.again.delete(rel)) this.push(rel);
        this.pump();
        if (this.pending === 0) for (const r of this.idleWaiters.splice(0)) r();
      });
    }
  }

  private async run(rel: string, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.mirrorOne(rel, signal);
        // Enqueued again meanwhile (a rewritten manifest): its new marker must survive until that upload is done.
        if (!this.again.has(rel)) await removeQuietly(this.markerPath(rel));
        return;
      } catch (err) {
        if (signal.aborted || !this.running) return;
        const reason = this.scrub(err);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (err as NodeJS.ErrnoException).path !== undefined) {
          this.stats.failed++;
          this.log.error({ key: rel, err: reason }, 's3 mirror: local file is gone, nothing to upload');
          await removeQuietly(this.markerPath(rel));
          return;
        }
        if (attempt >= this.maxAttempts) {
          this.stats.failed++;
          this.log.error({ key: rel, attempts: attempt, err: reason }, 's3 mirror: giving up until the next sync');
          return;
        }
        this.stats.retried++;
        const delay = Math.min(this.retryCapMs, this.retryBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        this.log.warn({ key: rel, attempt, delayMs: Math.round(delay), err: reason }, 's3 mirror: retrying');
        await this.sleep(delay);
        if (!this.running) return;
      }
    }
  }

  private async mirrorOne(rel: string, signal: AbortSignal): Promise<void> {
    await this.ensureBucket();
    const abs = path.join(this.dataRoot, ...rel.split('/'));
    const local = await this.digest(abs);
    const before = await this.head(rel, signal);
    if (before && this.matches(before, local)) {
      this.stats.skipped++;
      this.stats.verified++;
      return;
    }
    const params = { Bucket: this.bucket, Key: rel, Metadata: { sha256: local.sha256 } };
    if (local.body !== null) {
      await this.client.send(
        new PutObjectCommand({
          ...params,
          Body: local.body,
          ContentLength: local.size,
          ContentMD5: createHash('md5').update(local.body).digest('base64'),
        }),
        { abortSignal: signal },
      );
    } else {
      const upload = new Upload({
        client: this.client,
        params: { ...params, Body: createReadStream(abs) },
        partSize: this.partSize,
        queueSize: 2,
        leavePartsOnError: false,
        abortController: abortControllerFor(signal),
      });
      await upload.done();
    }
    this.stats.uploaded++;
    const after = await this.head(rel, signal);
    if (!after || !this.matches(after, local))
      throw new VerificationError(
        `remote ${rel} does not match the local file (size ${after?.ContentLength ?? 'none'} vs ${local.size}, ` +
          `etag ${after?.ETag ?? 'none'})`,
      );
    this.stats.verified++;
    this.log.info({ key: rel, bytes: local.size }, 's3 mirror: uploaded and verified');
  }

  private matches(head: HeadObjectCommandOutput, local: LocalDigest): boolean {
    const etag = (head.ETag ?? '').replaceAll('"', '');
    return head.ContentLength === local.size && head.Metadata?.['sha256'] === local.sha256 && local.etags.has(etag);
  }

  private async head(key: string, signal: AbortSignal): Promise<HeadObjectCommandOutput | null> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
  }

  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw err;
        await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
        this.log.info({ bucket: this.bucket }, 's3 mirror: bucket created');
      }
    })().catch((err: unknown) => {
      this.bucketReady = null;
      throw err;
    });
    return this.bucketReady;
  }

  /** SHA-256, MD5 and the per-part MD5s of a multipart upload, read once. Small files keep their bytes. */
  private async digest(abs: string): Promise<LocalDigest> {
    const { size } = await stat(abs);
    if (size < this.threshold) {
      const body = await readFile(abs);
      const md5 = createHash('md5').update(body).digest('hex');
      return {
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        etags: new Set([md5]),
        body,
      };
    }
    const sha = createHash('sha256');
    const whole = createHash('md5');
    const parts: Buffer[] = [];
    let part = createHash('md5');
    let inPart = 0;
    let total = 0;
    for await (const chunk of createReadStream(abs, { highWaterMark: MiB }) as AsyncIterable<Buffer>) {
      sha.update(chunk);
      whole.update(chunk);
      total += chunk.length;
      let off = 0;
      while (off < chunk.length) {
        const take = Math.min(chunk.length - off, this.partSize - inPart);
        part.update(chunk.subarray(off, off + take));
        inPart += take;
        off += take;
        if (inPart === this.partSize) {
          parts.push(part.digest());
          part = createHash('md5');
          inPart = 0;
        }
      }
    }
    if (inPart > 0) parts.push(part.digest());
    const composite = `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}`;
    return { size: total, sha256: sha.digest('hex'), etags: new Set([whole.digest('hex'), composite]), body: null };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeps.add(wake);
    });
  }

  /** An error as a log-safe string: never the credentials, whatever the server echoed back. */
  private scrub(err: unknown): string {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    let text = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
    if (e.$metadata?.httpStatusCode) text += ` (HTTP ${e.$metadata.httpStatusCode})`;
    return this.redactSecrets(text);
  }
}

function positive(name: string, v: number): number {
  if (!(v > 0)) throw new RangeError(`S3Mirror ${name} must be > 0`);
  return v;
}

/** lib-storage takes a controller, not a signal. */
function abortControllerFor(signal: AbortSignal): AbortController {
  const ctl = new AbortController();
  if (signal.aborted) ctl.abort();
  else signal.addEventListener('abort', () => ctl.abort(), { once: true });
  return ctl;
}

/** Lake paths with a pending upload marker under `dataRoot` (what the next `start()` will upload). */
export async function pendingUploads(dataRoot: string): Promise<string[]> {
  const dir = path.join(path.resolve(dataRoot), ...S3_PENDING_DIR.split('/'));
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const n of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')))
    out.push((JSON.parse(await readFile(path.join(dir, n), 'utf8')) as { path: string }).path);
  return out.sort();
}
