import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetLakeWriter, listPartFiles } from '../../src/sinks/parquet.js';
import { S3Mirror, pendingUploads } from '../../src/sinks/s3.js';
import type { MirrorLogger } from '../../src/sinks/s3.js';
import { simulateMarket } from '../../src/streams/sim.js';
import { S3TestServer } from '../support/s3.js';

const MiB = 1024 * 1024;

/** Every log line of every mirror in this file, serialised as a log shipper would. */
const logLines: string[] = [];
const logger: MirrorLogger = {
  info: (o, m) => logLines.push(JSON.stringify({ level: 'info', ...o, msg: m })),
  warn: (o, m) => logLines.push(JSON.stringify({ level: 'warn', ...o, msg: m })),
  error: (o, m) => logLines.push(JSON.stringify({ level: 'error', ...o, msg: m })),
};

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function writeLakeFile(root: string, rel: string, bytes: Uint8Array): void {
  const abs = path.join(root, ...rel.split('/'));
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, bytes);
}

async function until(cond: () => boolean, what: string, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('S3Mirror against a real S3 server (s3rver)', () => {
  let s3: S3TestServer;
  let client: S3Client;
  const roots: string[] = [];

  const newRoot = () => {
    const r = mkdtempSync(path.join(tmpdir(), 'levelflow-mirror-'));
    roots.push(r);
    return r;
  };
  const mirrorFor = (root: string, bucket: string, extra: Partial<ConstructorParameters<typeof S3Mirror>[0]> = {}) =>
    new S3Mirror({
      dataRoot: root,
      endpoint: s3.endpoint,
      bucket,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      retryBaseMs: 50,
      retryCapMs: 500,
      logger,
      ...extra,
    });
  const remoteSha = async (bucket: string, key: string) => {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return sha256(await res.Body!.transformToByteArray());
  };
  const expectMirrored = async (root: string, bucket: string, keys: readonly string[]) => {
    for (const key of keys)
      expect(await remoteSha(bucket, key), key).toBe(sha256(readFileSync(path.join(root, ...key.split('/')))));
  };

  beforeAll(async () => {
    s3 = await S3TestServer.start();
    client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.dispose();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('creates the bucket and mirrors small and multipart files under the lake key layout; checksums match', async () => {
    const root = newRoot();
    const small = 'bronze/futures/trades/symbol=ES/date=2025-12-16/hour=14/part-1-2-aaaaaaaaaaaa.parquet';
    const manifest = '_meta/runs/2025-12-16_142500_000000_live_abcdef/manifest.json';
    const large = 'bronze/futures/mbp10/symbol=ES/date=2025-12-16/hour=14/part-1-9-bbbbbbbbbbbb.parquet';
    writeLakeFile(root, small, randomBytes(200_000));
    writeLakeFile(root, manifest, Buffer.from('{"run_id": "x"}\n'));
    writeLakeFile(root, large, randomBytes(20 * MiB + 12345));

    const mirror = mirrorFor(root, 'lake-basic');
    await mirror.start();
    for (const k of [small, manifest, large]) await mirror.enqueue(k);
    await mirror.drain();
    await mirror.stop();

    await expectMirrored(root, 'lake-basic', [small, manifest, large]);
    expect(mirror.stats).toMatchObject({ uploaded: 3, verified: 3, skipped: 0, failed: 0 });
    expect(await pendingUploads(root)).toEqual([]);
    const partRequests = s3.requests.filter(
      (r) => r.url.includes(encodeURIComponent('part-1-9')) && /partNumber=/.test(r.url),
    );
    expect(partRequests).toHaveLength(3);
  });

  it('S3 stopped in the middle of a multipart upload: the mirror retries, completes, and checksums match', async () => {
    const root = newRoot();
    const large = 'gold/levels/signals/underlying=ES/date=2025-12-16/hour=15/part-5-6-cccccccccccc.parquet';
    const smalls = Array.from(
      { length: 6 },
      (_, i) => `bronze/options/trades/underlying=ES/date=2025-12-16/hour=15/part-${i}-${i}-dddddddddddd.parquet`,
    );
    writeLakeFile(root, large, randomBytes(40 * MiB));
    for (const k of smalls) writeLakeFile(root, k, randomBytes(50_000 + 1000 * smalls.indexOf(k)));

    const mirror = mirrorFor(root, 'lake-outage', { concurrency: 2 });
    await mirror.start();
    await mirror.enqueue(large);
    for (const k of smalls) await mirror.enqueue(k);
    const firstRequest = s3.requests.length;
    await until(
      () => s3.requests.slice(firstRequest).some((r) => r.url.includes('part-5-6') && /partNumber=/.test(r.url)),
      'the first part of the multipart upload',
    );
    await s3.stop();
    await until(() => mirror.stats.retried >= 2, 'the mirror to notice the outage');
    expect(mirror.pending).toBeGreaterThan(0);
    await s3.restart();
    await mirror.drain();
    await mirror.stop();

    await expectMirrored(root, 'lake-outage', [large, ...smalls]);
    expect(mirror.stats.failed).toBe(0);
    expect(mirror.stats.verified).toBe(1 + smalls.length);
    expect(await pendingUploads(root)).toEqual([]);
  });

  it('a restarted mirror uploads only what is missing (counted in PUTs at the server)', async () => {
    const root = newRoot();
    const bucket = 'lake-restart';
    const keys = Array.from(
      { length: 6 },
      (_, i) => `bronze/futures/trades/symbol=ES/date=2025-12-17/hour=0${i}/part-${i}-${i}-eeeeeeeeeeee.parquet`,
    );
    const manifest = '_meta/runs/2025-12-17_000000_000000_live_123456/manifest.json';
    for (const k of keys) writeLakeFile(root, k, randomBytes(30_000));
    writeLakeFile(root, manifest, Buffer.from('{"status": "started"}\n'));

    // Run 1 mirrors keys 0-1 and the manifest completely.
    const first = mirrorFor(root, bucket);
    await first.start();
    for (const k of [keys[0]!, keys[1]!, manifest]) await first.enqueue(k);
    await first.drain();
    await first.stop();
    // Then a process "crashes" with three uploads persisted but not done: key 1 (already remote: the crash fell
    // between upload and marker removal), keys 2 and 3 (never sent).
    const crashed = mirrorFor(root, bucket);
    for (const k of [keys[1]!, keys[2]!, keys[3]!]) await crashed.enqueue(k);
    await crashed.stop();
    expect(await pendingUploads(root)).toHaveLength(3);

    const putsBefore = s3.totalPuts;
    const second = mirrorFor(root, bucket);
    await second.start();
    await second.drain();
    expect(s3.totalPuts - putsBefore).toBe(2);
    expect(second.stats).toMatchObject({ uploaded: 2, skipped: 1, failed: 0 });
    expect(await pendingUploads(root)).toEqual([]);

    // syncAll finds the two files nobody queued; the unchanged manifest is checked but not sent again.
    expect(await second.syncAll()).toBe(3);
    await second.drain();
    expect(s3.totalPuts - putsBefore).toBe(4);
    expect(second.stats.skipped).toBe(2);
    // A rewritten manifest is sent again; the lake files are not.
    writeLakeFile(root, manifest, Buffer.from('{"status": "completed"}\n'));
    await second.syncAll();
    await second.drain();
    expect(s3.totalPuts - putsBefore).toBe(5);
    await second.stop();
    await expectMirrored(root, bucket, [...keys, manifest]);
    expect(s3.puts.get(keys[1]!)).toBe(1);
  });

  it('never logs the credentials, not even when the server rejects them', async () => {
    const root = newRoot();
    const key = 'bronze/futures/trades/symbol=ES/date=2025-12-18/hour=00/part-0-0-ffffffffffff.parquet';
    writeLakeFile(root, key, randomBytes(1000));
    // s3rver checks access key ids but not SigV4 signatures, so the rejection is provoked with an unknown key id.
    const wrongKeyId = `AKWRONG${randomBytes(8).toString('hex').toUpperCase()}`;
    const mirror = mirrorFor(root, 'lake-secrets', { accessKeyId: wrongKeyId, maxAttempts: 3 });
    await mirror.start();
    await mirror.enqueue(key);
    await mirror.drain();
    await mirror.stop();
    expect(mirror.stats.failed).toBe(1);
    expect(await pendingUploads(root)).toEqual([key]);
    expect(logLines.some((l) => /HTTP 403/.test(l))).toBe(true);

    const everything = [...logLines, inspect(mirror, { depth: 10, showHidden: true })].join('\n');
    for (const secret of [s3.accessKeyId, s3.secretAccessKey, wrongKeyId]) expect(everything).not.toContain(secret);
  });

  it('mirrors a lake written by the Parquet writer through an S3 restart in the middle of the sync', async () => {
    const root = newRoot();
    const writer = new ParquetLakeWriter({ dataRoot: root, maxRows: 2000, intervalS: 0 });
    for (const e of simulateMarket({ durationMinutes: 3, premarket: false })) {
      const schema = 'option_symbol' in e ? 'options.trades' : 'levels' in e ? 'futures.mbp10' : 'futures.trades';
      writer.append(schema, e);
      await writer.ready();
    }
    await writer.close();
    writeLakeFile(root, '_meta/runs/r/manifest.json', Buffer.from('{}\n'));
    const files = (await listPartFiles(root)).map((f) => path.relative(root, f).split(path.sep).join('/'));
    expect(files.length).toBeGreaterThan(3);

    const mirror = mirrorFor(root, 'lake-sync', { concurrency: 1 });
    await mirror.start();
    const queued = mirror.syncAll();
    const firstRequest = s3.requests.length;
    await until(
      () => s3.requests.slice(firstRequest).some((r) => r.method === 'PUT' && r.url.includes('.parquet')),
      'the first upload',
    );
    await s3.stop();
    await until(() => mirror.stats.retried >= 1, 'a failed attempt');
    await s3.restart();
    expect(await queued).toBe(files.length + 1);
    await mirror.drain();
    await mirror.stop();
    await expectMirrored(root, 'lake-sync', [...files, '_meta/runs/r/manifest.json']);
    expect(mirror.stats.failed).toBe(0);
  });
});
