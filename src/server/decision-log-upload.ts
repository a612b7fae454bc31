/**
 * Decision-log upload to an HTTP service in OPA's decision-log API shape: `POST <url><resource>`
 * (default `/logs`) with `Content-Type: application/json` and `Content-Encoding: gzip`, the body a
 * gzip'ed JSON array of events, each carrying `labels` {id, version, …}. Any non-2xx answer or a
 * network error keeps the chunk and retries it with backoff (the bundle poller's: 100 ms × 1.6ⁿ,
 * ±20 %, capped at max_delay_seconds).
 *
 * The buffer is bounded (buffer_size_limit_events): when it is full the oldest events not being sent
 * are dropped and counted, as OPA's event buffer does. An event alone larger than
 * upload_size_limit_bytes compressed is dropped and counted too (it could never be delivered, and
 * would block every event behind it).
 *
 * @example
 *   const up = new DecisionLogUploader({ url: 'http://logs:8080' }, { onDropped: (n) => … });
 *   up.push(JSON.stringify(event));   // after masking: the same line the log output gets
 *   await up.close();                 // one last attempt, bounded by timeout_seconds
 */
import * as zlib from 'zlib';
import { randomUUID } from 'crypto';
import { backoffMs, pollDelayMs } from '../bundles/http';

export interface UploadConfig {
  /** the service's base URL: events go to `<url><resource>` */
  url: string;
  /** default `/logs` (OPA's) */
  resource?: string;
  /** extra request headers, e.g. Authorization */
  headers?: Record<string, string>;
  /** an upload happens uniformly in [min, max) seconds after the first event waiting (default 5–10) */
  min_delay_seconds?: number;
  max_delay_seconds?: number;
  /** size of each gzip'ed chunk (default 32768, OPA's) */
  upload_size_limit_bytes?: number;
  /** events kept while the service is unreachable (default 10000, OPA's) */
  buffer_size_limit_events?: number;
  /** per request (default 10) */
  timeout_seconds?: number;
  /** added to each event's `labels` next to `id` and `version` */
  labels?: Record<string, string>;
}

export interface UploadHooks {
  onUploaded?: (events: number) => void;
  onDropped?: (events: number, why: 'buffer_full' | 'too_large') => void;
  onFailure?: (err: Error) => void;
}

/** At most this many events per chunk before the size limit is even considered. */
const MAX_EVENTS_PER_CHUNK = 2000;

export class DecisionLogUploader {
  /** events' JSON text (labels spliced in), oldest first */
  private buffer: string[] = [];
  /** the chunk being sent: back to the front of the buffer if it fails */
  private inflight: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  private readonly endpoint: string;
  private readonly labelsJson: string;
  private readonly limitEvents: number;
  private readonly limitBytes: number;
  private readonly minS: number;
  private readonly maxS: number;
  private readonly timeoutMs: number;

  constructor(private readonly cfg: UploadConfig, private readonly hooks: UploadHooks = {}, version = '0.0.0') {
    this.endpoint = cfg.url.replace(/\/+$/, '') + (cfg.resource ?? '/logs');
    this.labelsJson = JSON.stringify({ id: randomUUID(), version, ...(cfg.labels ?? {}) });
    this.limitEvents = cfg.buffer_size_limit_events ?? 10000;
    this.limitBytes = cfg.upload_size_limit_bytes ?? 32768;
    this.minS = cfg.min_delay_seconds ?? 5;
    this.maxS = Math.max(this.minS, cfg.max_delay_seconds ?? 10);
    this.timeoutMs = (cfg.timeout_seconds ?? 10) * 1000;
  }

  /** Events waiting (buffered and being sent). */
  get pending(): number {
    return this.buffer.length + this.inflight.length;
  }

  /** Queue one event (its JSON object text); never waits. */
  push(eventJson: string): void {
    if (this.closed) return;
    // `{"labels":…,` + the event's own fields: the line is not parsed again
    this.buffer.push(eventJson.length > 2 ? `{"labels":${this.labelsJson},${eventJson.slice(1)}` : `{"labels":${this.labelsJson}}`);
    this.trim();
    if (!this.sending) this.schedule(pollDelayMs(this.minS, this.maxS));
  }

  /** Over the limit: drop the oldest events that are not being sent. */
  private trim(): void {
    const over = Math.min(this.pending - this.limitEvents, this.buffer.length);
    if (over > 0) {
      this.buffer.splice(0, over);
      this.hooks.onDropped?.(over, 'buffer_full');
    }
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sendAll().finally(() => (this.sending = undefined));
    }, ms);
    this.timer.unref?.();
  }

  /** Send chunks until the buffer is empty or an upload fails (then back off). */
  private async sendAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const body = this.takeChunk();
      if (!body) continue;
      try {
        await this.post(body);
      } catch (err) {
        this.buffer.unshift(...this.inflight);
        this.inflight = [];
        this.trim();
        this.failures++;
        this.hooks.onFailure?.(err as Error);
        if (!this.closed) this.schedule(backoffMs(this.failures, this.maxS * 1000));
        return;
      }
      this.hooks.onUploaded?.(this.inflight.length);
      this.inflight = [];
      this.failures = 0;
    }
  }

  /**
   * Move the largest prefix of the buffer whose gzip'ed array fits the size limit into `inflight` and
   * return its body; halves the candidate until it fits. undefined when the first event alone does
   * not fit (it is dropped).
   */
  private takeChunk(): Buffer | undefined {
    let n = Math.min(this.buffer.length, MAX_EVENTS_PER_CHUNK);
    for (;;) {
      const body = zlib.gzipSync('[' + this.buffer.slice(0, n).join(',') + ']');
      if (body.length <= this.limitBytes) {
        this.inflight = this.buffer.splice(0, n);
        return body;
      }
      if (n === 1) {
        this.buffer.shift();
        this.hooks.onDropped?.(1, 'too_large');
        return undefined;
      }
      n = Math.ceil(n / 2);
    }
  }

  private async post(body: Buffer): Promise<void> {
    const res = await fetch(this.endpoint, {
      method: 'POST',
      headers: { ...(this.cfg.headers ?? {}), 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    // the answer's body is of no use; reading it frees the connection
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`decision log upload to ${this.endpoint}: HTTP ${res.status}`);
  }

  /** Stop the timer and try once more to deliver what is buffered (each request bounded by the timeout). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending) await this.sending;
    this.closed = true;
    await this.sendAll();
  }
}
