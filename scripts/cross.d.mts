/** What the smoke suite (scripts/smoke.cjs) prints: each check's result and the seeded sample's rows. */
export interface SmokeResult {
  ok: boolean;
  moved: number;
  fromWorker: number;
  rowsAgree: boolean;
  stateRoundTrip: boolean;
  wasm: boolean;
  /** 'rows in order' (native), 'refused, as documented for wasm', or 'wrong: …'. */
  worker: string;
  sample: { action: number[]; obs: number[]; reward: number[] };
}
/** The files of the wasm build that its package ships. */
export const WASM_FILES: readonly string[];
/** The cross targets, by napi-rs platform suffix. */
export const TARGETS: Readonly<
  Record<
    string,
    {
      triple: string;
      /** The library cargo builds (none for wasm: `napi build` makes its files). */
      lib?: string;
      glibc?: string;
      nodePackage?: string;
      musl?: 'x64' | 'arm64';
      windows?: boolean;
      wasm?: boolean;
      runner?: (node?: string) => [string, string[]];
      macho?: { cpu: 'arm64' | 'x64'; minos: string };
    }
  >
>;
/** The target's Node from npm's `node-<os>-<arch>` package (fetched once), or undefined when it has none. */
export function targetNode(suffix: string): string | undefined;
/** Makes sure `suffix` can be built and run here; resolves to the build's PATH. */
export function ensureCrossTools(suffix: string): Promise<string>;
/** Builds `suffix`; returns the `.node` path and the build's seconds. */
export function buildTarget(suffix: string, PATH: string): { path: string; seconds: number; bytes: number };
/** Runs the smoke suite with `suffix`'s Node (`host`: this one) in `cwd`, requiring `entry`. */
export function smoke(suffix: string, entry?: string, cwd?: string, nativePath?: string): SmokeResult;
/** Builds and checks every target in `suffixes`; throws unless each passed; returns a line per target. */
export function buildAndCheck(suffixes?: string[], entry?: string): Promise<string[]>;
