/** The exact pins the venv holds (gymnasium, numpy, pyarrow, duckdb and gymnasium's dependencies). */
export const PINNED_PACKAGES: readonly string[];
/** The venv's directory for these packages: `$EXPBUF_VENV`, else `~/.cache/expbuf/venv-<hash>`. */
export function venvDir(packages?: readonly string[]): string;
/**
 * Creates the venv once (reused later; safe when several processes call it at once)
 * with exactly `packages` installed; resolves to the path of its python.
 */
export function ensurePython(packages?: readonly string[]): Promise<string>;
