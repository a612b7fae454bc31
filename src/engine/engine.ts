/**
 * A bundle made executable: every wasm module instantiated, the bundle's data set once, and a map
 * from entrypoint ("mcp/authz/decision") to the module that answers it. An ActiveBundle is immutable
 * after creation: activation builds a new one off to the side and swaps a reference, so a decision
 * that started on one never sees another.
 */
import type { Bundle } from '../bundles/bundle';
import { WasmPolicy, EvaluationError, PolicyLoadError, type ResultSet } from './policy';
import { hasKey } from '../util/own-keys';

export { EvaluationError, PolicyLoadError };
export type { ResultSet };

export interface Evaluation {
  resultSet: ResultSet;
  evalNs: number;
}

export class ActiveBundle {
  private constructor(
    readonly name: string,
    readonly revision: string,
    readonly bundle: Bundle,
    private readonly routes: Map<string, WasmPolicy>,
  ) {}

  /**
   * Instantiate every module of the bundle. Entrypoints come from the manifest's `wasm` entries when
   * it has any (OPA's rule); otherwise from what each module reports.
   */
  static async create(name: string, bundle: Bundle): Promise<ActiveBundle> {
    const policies = new Map<string, WasmPolicy>();
    for (const [member, bytes] of bundle.wasm) {
      let p: WasmPolicy;
      try {
        p = await WasmPolicy.load(bytes);
      } catch (err) {
        throw new PolicyLoadError(`${member}: ${(err as Error).message}`);
      }
      p.setData(bundle.data);
      policies.set(member, p);
    }
    const routes = new Map<string, WasmPolicy>();
    if (bundle.manifest.wasm.length > 0) {
      for (const w of bundle.manifest.wasm) {
        const p = policies.get(w.module)!;
        // own keys only: a manifest naming "toString" or "constructor" must not pass for an entrypoint
        if (!hasKey(p.entrypoints, w.entrypoint)) {
          throw new PolicyLoadError(`/.manifest maps ${w.entrypoint} to ${w.module}, which has no such entrypoint (it has: ${Object.keys(p.entrypoints).join(', ') || 'none'})`);
        }
        routes.set(w.entrypoint, p);
      }
    } else {
      for (const [member, p] of policies) {
        for (const ep of Object.keys(p.entrypoints)) {
          if (routes.has(ep)) throw new PolicyLoadError(`entrypoint ${ep} is answered by two modules (${member})`);
          routes.set(ep, p);
        }
      }
    }
    return new ActiveBundle(name, bundle.manifest.revision, bundle, routes);
  }

  entrypoints(): string[] {
    return [...this.routes.keys()];
  }

  has(entrypoint: string): boolean {
    return this.routes.has(entrypoint);
  }

  /** Evaluate synchronously: nothing else runs on this thread until it returns. `undefined` = no input. */
  evaluate(entrypoint: string, input: unknown): Evaluation {
    return this.evaluateJson(entrypoint, input === undefined ? undefined : JSON.stringify(input));
  }

  /** evaluate() with the input already serialised as JSON text (see WasmPolicy.evaluateJson). */
  evaluateJson(entrypoint: string, json: string | undefined): Evaluation {
    const p = this.routes.get(entrypoint);
    if (!p) throw new EvaluationError(`entrypoint ${entrypoint} is not in bundle ${this.name}`);
    const t0 = process.hrtime.bigint();
    const resultSet = p.evaluateJson(entrypoint, json);
    return { resultSet, evalNs: Number(process.hrtime.bigint() - t0) };
  }

  /**
   * A plain data lookup (no policy): the value at a slash path inside the bundle's data, or undefined.
   * Lets the Data API answer `GET /v1/data/roles` for data-only paths as OPA does.
   */
  dataAt(path: string): unknown {
    let node: unknown = this.bundle.data;
    for (const seg of path.split('/').filter(Boolean)) {
      if (Array.isArray(node) && /^\d+$/.test(seg)) node = node[Number(seg)];
      else if (node && typeof node === 'object' && !Array.isArray(node) && Object.prototype.hasOwnProperty.call(node, seg)) {
        node = (node as Record<string, unknown>)[seg];
      } else return undefined;
    }
    return node;
  }
}
