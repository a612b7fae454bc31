/**
 * Noticing that a local bundle source changed, however it was saved.
 *
 * Why not one `fs.watch(dir, {recursive: true})`: on Linux that watches inodes, and a save that
 * replaces a file (editors' atomic save, `mv tmp policy.rego`, `sed -i`, `git checkout`) or a directory
 * (`mv policy.new policy`) leaves the watch on the old inode: the first such save is seen, every later
 * one is silently missed. A policy change that silently does not apply is a security incident.
 *
 * So this watches *directories*, never files: every directory of the source, and the directory holding
 * the source itself (a bundle file's directory; a source directory's parent, which sees the source
 * directory being replaced). A directory's watch reports writes, creations, renames and deletions of
 * its entries. After each burst of events the directory list is re-scanned and watches are re-armed
 * where a directory is new or was replaced (its inode changed).
 *
 * Backstop: every `checkIntervalMs` the source's content hash is compared with the one last seen; a
 * difference the events did not report triggers a reload anyway, with a warning (network file systems,
 * exhausted inotify watches, or a case the events miss).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { bundleDirFiles, ignoredInSource, regoDirFiles, type SourceKind } from './sources';
import type { LogFn } from './manager';

export interface SourceWatcherOptions {
  /** wait this long after the last event before reacting (a save is often several events) */
  debounceMs: number;
  /** the backstop content check's period; 0 turns it off */
  checkIntervalMs: number;
  /** use file system events (false: rely on the periodic check alone, e.g. on NFS) */
  events?: boolean;
  /** the source (may have) changed: reload it. `missedByEvents` when only the periodic check saw it */
  onChange(missedByEvents: boolean): void;
  log: LogFn;
  bundle: string;
}

interface DirWatch {
  watcher: fs.FSWatcher;
  ino: bigint;
}

/** The longest a stream of events can postpone a reload, in debounce periods. */
const MAX_BURST_DEBOUNCES = 10;
/** A file whose content is trusted from its stat only after it had been still this long when read. */
const SETTLED_MS = 2_000;

export class SourceWatcher {
  private readonly source: string;
  private readonly dirs = new Map<string, DirWatch>();
  private readonly hashes = new Map<string, { key: string; hash: string; settled: boolean }>();
  private readonly warned = new Set<string>();
  private lastSeen = '';
  private debounce?: NodeJS.Timeout;
  private burstStart = 0;
  private interval?: NodeJS.Timeout;
  private closed = false;

  constructor(
    source: string,
    private readonly kind: Exclude<SourceKind, 'http'>,
    private readonly opts: SourceWatcherOptions,
  ) {
    this.source = path.resolve(source);
  }

  /** Take the current content hash (changes from here on are reported) and start watching. */
  start(): void {
    this.lastSeen = this.contentHash();
    if (this.opts.events !== false) this.rearm();
    if (this.opts.checkIntervalMs > 0) {
      this.interval = setInterval(() => this.check(), this.opts.checkIntervalMs);
      this.interval.unref();
    }
  }

  close(): void {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.interval) clearInterval(this.interval);
    for (const d of this.dirs.values()) d.watcher.close();
    this.dirs.clear();
  }

  /** The periodic backstop: re-arm, and reload if the content changed without an event saying so. */
  check(): void {
    if (this.closed || this.debounce) return; // an event is being handled: it will reload
    if (this.opts.events !== false) this.rearm();
    const now = this.contentHash();
    if (now === this.lastSeen) return;
    this.lastSeen = now;
    if (this.opts.events !== false) {
      this.opts.log('warn', 'bundle source changed without a file system event; reloading (found by the periodic check)', {
        bundle: this.opts.bundle,
        source: this.source,
      });
    }
    this.opts.onChange(true);
  }

  private onEvent(dir: string, file: string | null): void {
    if (this.closed || !this.relevant(dir, file)) return;
    // a file written without pause (a log kept inside a bundle directory) must not postpone the
    // reload forever: a burst is cut after MAX_BURST_DEBOUNCES debounce periods
    if (this.debounce && Date.now() - this.burstStart >= this.opts.debounceMs * MAX_BURST_DEBOUNCES) return;
    if (this.debounce) clearTimeout(this.debounce);
    else this.burstStart = Date.now();
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (this.closed) return;
      this.rearm();
      this.lastSeen = this.contentHash();
      // always reload on an event, even when the hash looks the same: the reload dedupes by content
      // itself, and a hash taken between two quick saves must never be the reason a save is skipped
      this.opts.onChange(false);
    }, this.opts.debounceMs);
    this.debounce.unref();
  }

  /** Events that may concern the bundle (the parent directory also sees its other entries). */
  private relevant(dir: string, file: string | null): boolean {
    if (file === null) return true;
    const full = path.join(dir, file);
    if (this.kind === 'file') return full === this.source;
    if (dir === path.dirname(this.source) && full !== this.source) return false;
    const rel = path.relative(this.source, full);
    return rel === '' || !ignoredInSource(this.kind, rel);
  }

  /** The directories to watch now: the source's own directory (or parent), then its subdirectories. */
  private wantedDirs(): string[] {
    const out = [path.dirname(this.source)];
    if (this.kind === 'file') return out;
    const visit = (dir: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // gone (being replaced): the parent's watch reports when it is back
      }
      out.push(dir);
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const full = path.join(dir, e.name);
        if (!ignoredInSource(this.kind, path.relative(this.source, full))) visit(full);
      }
    };
    visit(this.source);
    return out;
  }

  /** Watch every wanted directory; re-watch any that was replaced; drop the ones that are gone. */
  private rearm(): void {
    const wanted = new Set(this.wantedDirs());
    for (const [dir, d] of this.dirs) {
      if (!wanted.has(dir)) {
        d.watcher.close();
        this.dirs.delete(dir);
      }
    }
    for (const dir of wanted) {
      let ino: bigint;
      try {
        ino = fs.statSync(dir, { bigint: true }).ino;
      } catch {
        continue;
      }
      const have = this.dirs.get(dir);
      if (have && have.ino === ino) continue;
      have?.watcher.close();
      this.dirs.delete(dir);
      try {
        const watcher = fs.watch(dir, (_ev, file) => this.onEvent(dir, file === null ? null : file.toString()));
        // a watch that breaks (its directory deleted, on some systems an error) is re-armed at the next scan
        watcher.on('error', () => {
          watcher.close();
          if (this.dirs.get(dir)?.watcher === watcher) this.dirs.delete(dir);
          this.onEvent(dir, null);
        });
        watcher.unref();
        this.dirs.set(dir, { watcher, ino });
        this.warned.delete(dir);
      } catch (err) {
        if (!this.warned.has(dir)) {
          this.warned.add(dir);
          this.opts.log('warn', 'cannot watch a bundle directory; relying on the periodic check for it', {
            bundle: this.opts.bundle,
            dir,
            error: (err as Error).message,
          });
        }
      }
    }
  }

  /** The files whose content makes the bundle. */
  private files(): string[] {
    try {
      if (this.kind === 'file') return fs.existsSync(this.source) ? [this.source] : [];
      if (this.kind === 'bundle-dir') return bundleDirFiles(this.source).sort();
      return regoDirFiles(this.source);
    } catch {
      return [];
    }
  }

  /** A hash over the source's file names and contents ("" names a missing source). */
  contentHash(): string {
    const h = crypto.createHash('sha256');
    const files = this.files();
    for (const f of this.hashes.keys()) if (!files.includes(f)) this.hashes.delete(f);
    for (const f of files) {
      h.update(path.relative(this.source, f));
      h.update('\0');
      h.update(this.fileHash(f));
      h.update('\0');
    }
    return h.digest('hex');
  }

  /**
   * A file's content hash, re-read only when its stat changed. A file modified just before it was read
   * can change again within the same timestamp tick without its stat changing, so its stat is trusted
   * only once it had been still for SETTLED_MS when it was read (git's "racy timestamp" rule).
   */
  private fileHash(f: string): string {
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(f, { bigint: true });
    } catch {
      return 'missing';
    }
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const hit = this.hashes.get(f);
    if (hit && hit.key === key && hit.settled) return hit.hash;
    let hash: string;
    try {
      hash = crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
    } catch {
      return 'unreadable';
    }
    const settled = Date.now() - Number(st.ctimeNs / 1_000_000n) > SETTLED_MS;
    this.hashes.set(f, { key, hash, settled });
    return hash;
  }
}
