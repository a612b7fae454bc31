/**
 * Decision logs: one JSON line per decision, OPA-like fields. Logging never blocks or slows a
 * decision beyond pushing onto a bounded queue: masking, serialising and writing happen after the
 * answer, in batches; when the queue is full the event is dropped and counted.
 *
 * Masking: JSON pointers from the config (e.g. "/input/parameters/card_number") are erased, then the
 * bundle's `system/log/mask` entrypoint (if it has one) is evaluated with the whole event as input;
 * it returns pointers to erase or {op: "remove"|"upsert", path, value} (OPA's contract). `erased` and
 * `masked` list what was done.
 */
import * as fs from 'fs';
import type { ActiveBundle } from '../engine/engine';
import { setKey } from '../util/own-keys';

export interface DecisionEvent {
  decision_id: string;
  timestamp: string;
  path: string;
  input?: unknown;
  result?: unknown;
  mapped_result?: unknown;
  bundles: Record<string, { revision: string }>;
  caller?: unknown;
  requested_by?: string;
  request_id?: string;
  api_path?: string;
  error?: { code: string; message: string };
  /** decision_logs.explain: why (src/engine/explain.ts) */
  explain?: unknown;
  metrics: { eval_ns?: number; timer_rego_query_eval_ns?: number };
  erased?: string[];
  masked?: string[];
}

interface Queued {
  event: DecisionEvent;
  /** the bundle that answered, for its system/log/mask rule */
  bundle?: ActiveBundle;
  pre?: Preserialized;
}

/**
 * Fields of an event the caller already holds as JSON text (exactly JSON.stringify of the event's
 * value): when no mask applies, the log line splices them in instead of serialising them again.
 */
export interface Preserialized {
  input?: string;
  result?: string;
  mapped_result?: string;
  bundles?: string;
}

/**
 * JSON.stringify(ev), the same text, with the pre-serialised fields spliced in. Keys in the event's
 * order; undefined values (and values JSON drops) are left out as JSON.stringify leaves them out.
 */
export function serializeEvent(ev: DecisionEvent, pre: Preserialized): string {
  let out = '{';
  const o = ev as unknown as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const v = o[key];
    if (v === undefined) continue;
    const p = key === 'input' ? pre.input : key === 'result' ? pre.result : key === 'mapped_result' ? pre.mapped_result : key === 'bundles' ? pre.bundles : undefined;
    const j = p ?? JSON.stringify(v);
    if (j === undefined) continue;
    out += (out.length === 1 ? '' : ',') + (KEY_JSON[key] ?? JSON.stringify(key)) + ':' + j;
  }
  return out + '}';
}

/** `"key"` for the event's own field names (all plain identifiers), so they are not re-quoted per line */
const KEY_JSON: Record<string, string> = Object.fromEntries(
  ['decision_id', 'timestamp', 'path', 'input', 'result', 'mapped_result', 'bundles', 'caller', 'requested_by', 'request_id', 'api_path', 'error', 'explain', 'metrics', 'erased', 'masked'].map((k) => [k, `"${k}"`]),
);

export interface DecisionLoggerOptions {
  /** 'stdout' | 'stderr' | 'off' | a file path */
  output: string;
  mask: string[];
  bufferSizeLimitEvents: number;
  onDrop?: () => void;
  onError?: (err: Error) => void;
  /** write here instead of opening `output` (a cluster worker relays to the primary: cluster-log.ts) */
  stream?: NodeJS.WritableStream;
  /** also hand each line (masked, without the newline) here: the HTTP upload (decision-log-upload.ts) */
  sink?: (line: string) => void;
}

const MASK_ENTRYPOINT = 'system/log/mask';

function unescape(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

type Obj = Record<string, unknown>;

/** Copy-on-write update of `root` at a JSON pointer. Returns the new root, or undefined if the path is absent. */
function applyAt(root: unknown, segs: string[], op: 'remove' | 'upsert', value?: unknown): { root: unknown } | undefined {
  if (segs.length === 0) return op === 'remove' ? { root: undefined } : { root: value };
  const [head, ...rest] = segs;
  if (Array.isArray(root)) {
    if (!/^\d+$/.test(head)) return undefined;
    const i = Number(head);
    if (i >= root.length) return undefined;
    const child = applyAt(root[i], rest, op, value);
    if (!child) return undefined;
    const copy = root.slice();
    if (rest.length === 0 && op === 'remove') copy.splice(i, 1);
    else copy[i] = child.root;
    return { root: copy };
  }
  if (root && typeof root === 'object') {
    const o = root as Obj;
    const has = Object.prototype.hasOwnProperty.call(o, head);
    if (!has && !(op === 'upsert' && rest.length === 0)) return undefined;
    const child = has ? applyAt(o[head], rest, op, value) : { root: value };
    if (!child) return undefined;
    const copy: Obj = { ...o };
    if (rest.length === 0 && op === 'remove') delete copy[head];
    else setKey(copy, head, child.root);
    return { root: copy };
  }
  return undefined;
}

/** Apply one mask operation to the event (only /input and /result may be touched). */
export function maskEvent(ev: DecisionEvent, pointer: string, op: 'remove' | 'upsert' = 'remove', value?: unknown): boolean {
  if (!pointer.startsWith('/')) return false;
  const segs = pointer.slice(1).split('/').map(unescape);
  const top = segs[0];
  if (top !== 'input' && top !== 'result') return false;
  const cur = (ev as unknown as Obj)[top];
  if (segs.length === 1) {
    if (op === 'remove') {
      if (cur === undefined) return false;
      delete (ev as unknown as Obj)[top];
    } else (ev as unknown as Obj)[top] = value;
  } else {
    if (cur === undefined) return false;
    const res = applyAt(cur, segs.slice(1), op, value);
    if (!res) return false;
    (ev as unknown as Obj)[top] = res.root;
  }
  (op === 'remove' ? (ev.erased ??= []) : (ev.masked ??= [])).push(pointer);
  return true;
}

/** The stream a decision-log `output` names: 'stdout', 'stderr', or a file appended to. */
export function openLogOutput(output: string): NodeJS.WritableStream {
  if (output === 'stdout') return process.stdout;
  if (output === 'stderr') return process.stderr;
  return fs.createWriteStream(output, { flags: 'a' });
}

export class DecisionLogger {
  private queue: Queued[] = [];
  private scheduled = false;
  private waitingDrain = false;
  private readonly stream?: NodeJS.WritableStream;
  dropped = 0;

  constructor(private readonly opts: DecisionLoggerOptions) {
    if (opts.output === 'off') return;
    this.stream = opts.stream ?? openLogOutput(opts.output);
    this.stream.on?.('error', (err: Error) => this.opts.onError?.(err));
  }

  /** whether events go anywhere: an output, an upload, or both */
  get enabled(): boolean {
    return this.stream !== undefined || this.opts.sink !== undefined;
  }

  /** Queue an event; never throws, never waits. */
  log(event: DecisionEvent, bundle?: ActiveBundle, pre?: Preserialized): void {
    if (!this.enabled) return;
    if (this.queue.length >= this.opts.bufferSizeLimitEvents) {
      this.dropped++;
      this.opts.onDrop?.();
      return;
    }
    this.queue.push({ event, bundle, pre });
    if (!this.scheduled && !this.waitingDrain) this.schedule();
  }

  /**
   * Flush in the next event-loop turn, not this one: the answers decided in this turn are written at
   * the end of it (response-batch.ts) and must not wait behind serialising and writing their log
   * lines. Measured with `npm run bench`: ~+10% decisions/s against flushing in the same turn.
   */
  private schedule(): void {
    this.scheduled = true;
    setImmediate(() => setImmediate(() => this.flush()));
  }

  private prepare(q: Queued): string {
    const ev = q.event;
    const maskRule = q.bundle?.has(MASK_ENTRYPOINT) ?? false;
    // nothing to mask: the line is the event's JSON, with the text the decision already serialised
    if (q.pre && this.opts.mask.length === 0 && !maskRule) return serializeEvent(ev, q.pre);
    for (const p of this.opts.mask) maskEvent(ev, p);
    if (maskRule) {
      try {
        const rs = q.bundle!.evaluate(MASK_ENTRYPOINT, ev).resultSet;
        const ops = rs[0]?.result;
        if (Array.isArray(ops)) {
          for (const m of ops) {
            if (typeof m === 'string') maskEvent(ev, m);
            else if (m && typeof m === 'object') {
              const { op, path, value } = m as { op?: string; path?: unknown; value?: unknown };
              if (typeof path === 'string' && (op === 'remove' || op === 'upsert')) maskEvent(ev, path, op, value);
            }
          }
        }
      } catch (err) {
        // never log an unmasked event when the mask policy fails: drop input and result instead
        delete ev.input;
        delete ev.result;
        ev.erased = ['/input', '/result'];
        this.opts.onError?.(new Error(`system/log/mask failed: ${(err as Error).message}`));
      }
    }
    return JSON.stringify(ev);
  }

  private flush(): void {
    this.scheduled = false;
    if (!this.enabled || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    let out = '';
    const sink = this.opts.sink;
    for (const q of batch) {
      try {
        const line = this.prepare(q);
        sink?.(line);
        out += line + '\n';
      } catch (err) {
        out += this.fallbackLine(q.event, err as Error);
      }
    }
    if (!this.stream) return;
    const ok = this.stream.write(out);
    if (!ok) {
      this.waitingDrain = true;
      this.stream.once('drain', () => {
        this.waitingDrain = false;
        if (this.queue.length > 0 && !this.scheduled) this.schedule();
      });
    }
  }

  /**
   * An event that cannot be serialised (e.g. a value nested past V8's stack) still leaves its audit
   * record: the line without input and results, flat fields only. If even that fails, the drop is
   * counted. Either way the error names the decision.
   */
  private fallbackLine(ev: DecisionEvent, err: Error): string {
    try {
      const line = JSON.stringify({
        decision_id: ev.decision_id, timestamp: ev.timestamp, path: ev.path, bundles: ev.bundles,
        request_id: ev.request_id, api_path: ev.api_path, erased: ['/input', '/result', '/mapped_result'],
        log_error: `the event could not be serialised: ${err.message}`,
      });
      this.opts.onError?.(new Error(`decision ${ev.decision_id}: logged without input and result: ${err.message}`));
      return line + '\n';
    } catch (again) {
      this.dropped++;
      this.opts.onDrop?.();
      this.opts.onError?.(new Error(`decision ${ev.decision_id}: log line dropped: ${(again as Error).message}`));
      return '';
    }
  }

  /** Write what is queued (used at shutdown and in tests). */
  async drain(): Promise<void> {
    this.flush();
    if (this.stream && this.waitingDrain) await new Promise((r) => this.stream!.once('drain', r));
  }

  close(): Promise<void> {
    this.flush();
    const s = this.stream as fs.WriteStream | undefined;
    if (s && s !== (process.stdout as unknown) && s !== (process.stderr as unknown) && typeof s.end === 'function') {
      return new Promise((r) => s.end(r));
    }
    return Promise.resolve();
  }
}
