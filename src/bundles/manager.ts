/**
 * Owns the active bundles and their lifecycle: initial load, hot reload (file watch, HTTP polling),
 * signature checks, persistence of the last good remote bundle, and atomic activation.
 *
 * Activation: read → parse → verify → instantiate (+ set data) → smoke-evaluate → swap. The active
 * set is an immutable Map replaced in one assignment; a decision takes the Map once when it starts and
 * finishes on it, so it never sees half a bundle or a mix of two. Any failure leaves the previous
 * bundle active, is logged, and is counted.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import type { BundleSourceConfig } from '../server/types';
import { ActiveBundle } from '../engine/engine';
import { overlaps, parseBundle } from './bundle';
import { readTarGz, DEFAULT_SIZE_LIMIT } from './tar';
import { verifyBundle, type KeyConfig } from './verify';
import { sourceKind, readBundleFile, readBundleDir, compileRegoDir, defaultBundleName, type SourceKind } from './sources';
import { downloadBundle, backoffMs, pollDelayMs } from './http';
import { SourceWatcher } from './watch';
import { RegoError, RegoErrors } from '../compiler/errors';

/**
 * The poller's clock: how a delay is waited for. Default: setTimeout (unref'd). Tests pass one that
 * records the delays and fires on demand, so polling and backoff are checked without waiting.
 * The callback returns a promise that settles when the poll it started (download, activation,
 * scheduling the next one) is done.
 */
export interface PollTimers {
  set(fn: () => Promise<void>, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: PollTimers = {
  set(fn, ms) {
    const t = setTimeout(() => void fn(), ms);
    t.unref?.();
    return t;
  },
  clear(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** Why the newest failed attempt failed; `locations` are the policy positions a compile error names. */
export interface BundleLoadError {
  stage: string;
  message: string;
  locations: Array<{ file: string; row: number; col: number }>;
}

/**
 * One bundle's load history, for /health?bundles&strict, /v1/status and the metrics: a reload that
 * fails keeps the previous bundle serving, and this is where that stays visible. Times are epoch ms.
 */
export interface BundleStatus {
  name: string;
  activeRevision?: string;
  activatedAt?: number;
  lastAttemptAt?: number;
  lastFailureAt?: number;
  /** failed attempts since the last success: > 0 means the served bundle is not what the source holds */
  consecutiveFailures: number;
  /** the newest failure (kept after a fix, so what went wrong last stays visible) */
  lastError?: BundleLoadError;
}

export interface BundleManagerOptions {
  keys?: Record<string, KeyConfig>;
  /** where persisted remote bundles go */
  persistenceDir?: string;
  /** evaluated with input {} before a swap (when the bundle has it); also compiled for .rego dirs */
  decisionEntrypoint?: string;
  /** extra entrypoints to compile for .rego directories (e.g. system/log/mask) */
  compileEntrypoints?: string[];
  log?: LogFn;
  /** called for every activation attempt, with the bundle's status after it */
  onLoad?: (bundle: string, result: 'success' | 'failure', revision: string | undefined, previousRevision: string | undefined, status: BundleStatus) => void;
  /** watch files/dirs and poll HTTP sources (default true) */
  watch?: boolean;
  debounceMs?: number;
  /** local sources: period of the backstop content check (watch.ts; default 3000, 0 = off) */
  checkIntervalMs?: number;
  /** local sources: use file system events (default true; false = the periodic check alone) */
  fsEvents?: boolean;
  /** the HTTP poller's timers (default: real ones) */
  timers?: PollTimers;
}

interface SourceState {
  name: string;
  cfg: BundleSourceConfig;
  kind: SourceKind;
  etag?: string;
  lastHash?: string;
  watcher?: SourceWatcher;
  pollTimer?: unknown;
  abort?: AbortController;
  queue: Promise<unknown>;
  status: BundleStatus;
  /** the last answer carried the bundle content type: long polling may continue */
  longPoll?: boolean;
}

export class BundleManager {
  private active: ReadonlyMap<string, ActiveBundle> = new Map();
  private readonly sources = new Map<string, SourceState>();
  private readonly activatedOnce = new Set<string>();
  /** status of bundles given to activate() without a configured source (tests, embedding) */
  private readonly unlisted = new Map<string, BundleStatus>();
  private closed = false;
  private readonly log: LogFn;

  constructor(private readonly opts: BundleManagerOptions = {}) {
    this.log = opts.log ?? (() => undefined);
  }

  /** The active bundles: take it once per decision and use only that. */
  current(): ReadonlyMap<string, ActiveBundle> {
    return this.active;
  }

  /** Every configured bundle has activated at least once (OPA's /health?bundles). */
  allActivated(): boolean {
    for (const name of this.sources.keys()) if (!this.activatedOnce.has(name)) return false;
    return true;
  }

  configuredNames(): string[] {
    return [...this.sources.keys()];
  }

  /** Every configured bundle's load history (copies). */
  statuses(): BundleStatus[] {
    return [...[...this.sources.values()].map((st) => st.status), ...this.unlisted.values()].map((s) => ({ ...s }));
  }

  /**
   * Load every source once (persisted copies first for HTTP sources), then start watching/polling.
   * Returns the errors of the initial loads by bundle name (empty when all activated).
   */
  async start(configs: BundleSourceConfig[]): Promise<Map<string, Error>> {
    const errors = new Map<string, Error>();
    for (const cfg of configs) {
      const name = cfg.name ?? defaultBundleName(cfg.source);
      if (this.sources.has(name)) throw new Error(`two bundles are named ${name}: give them distinct names`);
      this.sources.set(name, { name, cfg, kind: sourceKind(cfg.source), queue: Promise.resolve(), status: { name, consecutiveFailures: 0 } });
    }
    for (const st of this.sources.values()) {
      if (st.kind === 'http') {
        if (st.cfg.persist) await this.loadPersisted(st);
        const err = await this.pollOnce(st);
        if (err && !this.activatedOnce.has(st.name)) errors.set(st.name, err);
        if (this.opts.watch !== false) this.schedulePoll(st, err ? 1 : 0);
      } else {
        // watching starts first: a save during the initial load is not lost
        if (this.opts.watch !== false) this.watch(st);
        try {
          await this.reload(st.name);
        } catch (err) {
          errors.set(st.name, err as Error);
        }
      }
    }
    return errors;
  }

  /** Re-read a local source now and activate it (serialised per bundle). Throws on failure. */
  reload(name: string): Promise<ActiveBundle | undefined> {
    const st = this.sources.get(name);
    if (!st) return Promise.reject(new Error(`no bundle named ${name}`));
    const run = st.queue.then(() => this.reloadLocal(st));
    st.queue = run.catch(() => undefined);
    return run;
  }

  private async reloadLocal(st: SourceState): Promise<ActiveBundle | undefined> {
    const limit = st.cfg.size_limit_bytes ?? DEFAULT_SIZE_LIMIT;
    let files: Map<string, Buffer>;
    try {
      if (st.kind === 'file') files = (await readBundleFile(st.cfg.source, limit)).files;
      else if (st.kind === 'bundle-dir') files = readBundleDir(st.cfg.source, limit);
      else {
        const eps = [this.opts.decisionEntrypoint, ...(this.opts.compileEntrypoints ?? [])].filter((e): e is string => !!e);
        files = await compileRegoDir(st.cfg.source, eps.length ? eps : undefined, { v0Compatible: st.cfg.v0_compatible });
      }
    } catch (err) {
      this.failed(st.name, err as Error, 'read');
      throw err;
    }
    const hash = hashFiles(files);
    if (hash === st.lastHash && this.active.has(st.name)) {
      // the source holds the active bundle again (e.g. a broken save reverted): that is a success too
      this.succeeded(st.name, this.active.get(st.name)!.revision, false);
      return this.active.get(st.name);
    }
    const ab = await this.activate(st.name, files, st.cfg);
    st.lastHash = hash;
    return ab;
  }

  /**
   * Activate a bundle from its members. On success the new bundle is active when this resolves; on
   * failure the previous one stays active and the error is thrown (after being logged and counted).
   */
  async activate(name: string, files: Map<string, Buffer>, cfg?: BundleSourceConfig): Promise<ActiveBundle> {
    let stage = 'parse';
    try {
      const bundle = parseBundle(files);
      stage = 'verify';
      await verifyBundle(files, bundle.signatures, this.opts.keys, cfg?.signing);
      stage = 'instantiate';
      const ab = await ActiveBundle.create(name, bundle);
      stage = 'smoke';
      this.smoke(ab);
      stage = 'swap';
      for (const [other, b] of this.active) {
        if (other === name) continue;
        const clash = ab.entrypoints().find((e) => b.has(e));
        if (clash) throw new Error(`entrypoint ${clash} is also served by bundle ${other}`);
        // as in OPA, bundles own disjoint parts of data: otherwise which one a data path or a
        // same-named document comes from would depend on activation order
        for (const mine of ab.bundle.manifest.roots) {
          const theirs = b.bundle.manifest.roots.find((r) => overlaps(mine, r));
          if (theirs !== undefined) {
            throw new Error(
              `root ${JSON.stringify(mine)} overlaps root ${JSON.stringify(theirs)} of bundle ${other}` +
                (mine === '' || theirs === '' ? ' (a manifest without roots owns the whole namespace)' : ''),
            );
          }
        }
      }
      if (this.closed) throw new Error('bundle manager is closed');
      const prev = this.active.get(name);
      const next = new Map(this.active);
      next.set(name, ab);
      this.active = next; // the swap: one assignment
      this.activatedOnce.add(name);
      this.log('info', 'bundle activated', { bundle: name, revision: ab.revision, previous_revision: prev?.revision, entrypoints: ab.entrypoints() });
      const status = this.succeeded(name, ab.revision, true);
      this.opts.onLoad?.(name, 'success', ab.revision, prev?.revision, status);
      return ab;
    } catch (err) {
      this.failed(name, err as Error, stage);
      throw err;
    }
  }

  /** Record a successful attempt (`activated`: a new bundle was swapped in); say so if it ends failures. */
  private succeeded(name: string, revision: string, activated: boolean): BundleStatus {
    const status = this.statusFor(name);
    const now = Date.now();
    status.lastAttemptAt = now;
    if (activated) {
      status.activeRevision = revision;
      status.activatedAt = now;
    }
    if (status.consecutiveFailures > 0) {
      this.log('info', 'bundle reload fixed: the source loads again', {
        bundle: name,
        revision,
        failed_attempts: status.consecutiveFailures,
        last_error: status.lastError?.message,
      });
      status.consecutiveFailures = 0;
    }
    return status;
  }

  private failed(name: string, err: Error, stage: string): void {
    const prev = this.active.get(name);
    const status = this.statusFor(name);
    const now = Date.now();
    status.lastAttemptAt = now;
    status.lastFailureAt = now;
    status.consecutiveFailures++;
    status.lastError = { stage, message: err.message, locations: errorLocations(err) };
    this.log('error', 'bundle activation failed; keeping the previous bundle', {
      bundle: name,
      stage,
      error: err.message,
      active_revision: prev?.revision ?? null,
      consecutive_failures: status.consecutiveFailures,
    });
    this.opts.onLoad?.(name, 'failure', undefined, prev?.revision, status);
  }

  /** The status record of a configured source, or a fresh one for a bundle activated directly. */
  private statusFor(name: string): BundleStatus {
    const st = this.sources.get(name);
    if (st) return st.status;
    let s = this.unlisted.get(name);
    if (!s) this.unlisted.set(name, (s = { name, consecutiveFailures: 0 }));
    return s;
  }

  /** Evaluate the decision entrypoint (or the first one) on `{}`: an abort here means a broken bundle. */
  private smoke(ab: ActiveBundle): void {
    const ep = this.opts.decisionEntrypoint && ab.has(this.opts.decisionEntrypoint) ? this.opts.decisionEntrypoint : ab.entrypoints()[0];
    if (!ep) throw new Error('bundle has no entrypoints');
    try {
      ab.evaluate(ep, {});
    } catch (err) {
      throw new Error(`smoke evaluation of ${ep} failed: ${(err as Error).message}`);
    }
  }

  private watch(st: SourceState): void {
    if (st.kind === 'http') return;
    st.watcher = new SourceWatcher(st.cfg.source, st.kind, {
      bundle: st.name,
      debounceMs: this.opts.debounceMs ?? 200,
      // the bundle's own config first, then the manager's defaults
      checkIntervalMs: st.cfg.watch?.check_interval_seconds !== undefined ? st.cfg.watch.check_interval_seconds * 1000 : (this.opts.checkIntervalMs ?? 3000),
      events: st.cfg.watch?.events ?? this.opts.fsEvents,
      log: this.log,
      onChange: () => void this.reload(st.name).catch(() => undefined), // logged and counted in reload
    });
    st.watcher.start();
  }

  // ---- HTTP sources ----------------------------------------------------------------------------

  private persistPath(st: SourceState): string {
    return path.join(this.opts.persistenceDir ?? '.pdp', 'bundles', st.name.replace(/[^A-Za-z0-9._-]/g, '_'), 'bundle.tar.gz');
  }

  private async loadPersisted(st: SourceState): Promise<void> {
    const file = this.persistPath(st);
    if (!fs.existsSync(file)) return;
    try {
      const raw = await fs.promises.readFile(file);
      await this.activate(st.name, await readTarGz(raw, st.cfg.size_limit_bytes ?? DEFAULT_SIZE_LIMIT), st.cfg);
      const etagFile = file + '.etag';
      if (fs.existsSync(etagFile)) st.etag = (await fs.promises.readFile(etagFile, 'utf8')).trim() || undefined;
      this.log('info', 'activated the persisted copy of a remote bundle', { bundle: st.name, file });
    } catch (err) {
      this.log('warn', 'persisted bundle could not be activated', { bundle: st.name, file, error: (err as Error).message });
    }
  }

  private async persist(st: SourceState, raw: Buffer, etag?: string): Promise<void> {
    const file = this.persistPath(st);
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.promises.writeFile(tmp, raw);
      await fs.promises.rename(tmp, file);
      await fs.promises.writeFile(file + '.etag', etag ?? '');
    } catch (err) {
      this.log('warn', 'could not persist the remote bundle', { bundle: st.name, error: (err as Error).message });
    }
  }

  /** One download + activation. Returns the error, if any (already logged and counted). */
  private async pollOnce(st: SourceState): Promise<Error | undefined> {
    const poll = st.cfg.polling ?? {};
    st.abort = new AbortController();
    let activating = false;
    try {
      const dl = await downloadBundle(st.cfg.source, {
        etag: st.etag,
        headers: st.cfg.headers,
        // long polling stays on only while the server answers with the bundle content type (OPA's rule)
        waitSeconds: st.longPoll !== false ? poll.long_polling_timeout_seconds : undefined,
        sizeLimit: st.cfg.size_limit_bytes ?? DEFAULT_SIZE_LIMIT,
        signal: st.abort.signal,
      });
      if (dl.kind === 'empty') return undefined;
      st.longPoll = dl.longPoll;
      if (dl.kind === 'not_modified') {
        if (dl.etag) st.etag = dl.etag;
        const active = this.active.get(st.name);
        if (active) this.succeeded(st.name, active.revision, false);
        return undefined;
      }
      const files = await readTarGz(dl.raw, st.cfg.size_limit_bytes ?? DEFAULT_SIZE_LIMIT);
      activating = true;
      const run = st.queue.then(() => this.activate(st.name, files, st.cfg));
      st.queue = run.catch(() => undefined);
      await run;
      // only an activated bundle's etag is sent next time (a failed one is downloaded again)
      st.etag = dl.etag;
      if (st.cfg.persist) await this.persist(st, dl.raw, dl.etag);
      return undefined;
    } catch (err) {
      if (this.closed) return undefined;
      // activation failures are logged and counted by activate(); download and format errors here
      if (!activating) this.failed(st.name, err as Error, 'download');
      return err as Error;
    }
  }

  private schedulePoll(st: SourceState, retry: number): void {
    if (this.closed) return;
    const poll = st.cfg.polling ?? {};
    const min = poll.min_delay_seconds ?? 60;
    const max = poll.max_delay_seconds ?? Math.max(min, 120);
    const delay = retry > 0 ? backoffMs(retry, max * 1000) : poll.long_polling_timeout_seconds && st.longPoll ? 0 : pollDelayMs(min, max);
    st.pollTimer = (this.opts.timers ?? realTimers).set(async () => {
      st.pollTimer = undefined;
      if (this.closed) return;
      const err = await this.pollOnce(st);
      this.schedulePoll(st, err ? retry + 1 : 0);
    }, delay);
  }

  /** Stop watchers, timers and downloads. */
  close(): void {
    this.closed = true;
    for (const st of this.sources.values()) {
      st.watcher?.close();
      if (st.pollTimer !== undefined) (this.opts.timers ?? realTimers).clear(st.pollTimer);
      st.abort?.abort();
    }
  }
}

function hashFiles(files: Map<string, Buffer>): string {
  const h = crypto.createHash('sha256');
  for (const name of [...files.keys()].sort()) {
    h.update(name);
    h.update('\0');
    h.update(files.get(name)!);
  }
  return h.digest('hex');
}

/** The policy positions a compile error points at (none for other errors). */
function errorLocations(err: Error): BundleLoadError['locations'] {
  const list = err instanceof RegoErrors ? err.errors : err instanceof RegoError ? [err] : [];
  return list.map((e) => ({ file: e.loc.file, row: e.loc.line, col: e.loc.col }));
}
