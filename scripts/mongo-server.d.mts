/** Options for {@link startServer}. */
export interface StartServerOptions {
  /** Where FerretDB keeps the documents: SQLite files in the server's dir (the default), or PostgreSQL. */
  handler?: 'sqlite' | 'postgresql';
  /** The PostgreSQL server's URL, for `handler: 'postgresql'` (e.g. from scripts/pg-server.mjs). */
  postgresUrl?: string;
  /** How long to wait for the server to accept connections (not counting the build); 30 000 ms by default. */
  timeoutMs?: number;
}
/** Builds the FerretDB server program with `go` unless it is cached; resolves to the binary's path. */
export function buildServer(): Promise<string>;
/** Starts a throwaway MongoDB-wire-protocol server (FerretDB) with its data in `dir`; resolves to `mongodb://127.0.0.1:PORT/`. */
export function startServer(dir: string, options?: StartServerOptions): Promise<string>;
/** Stops the server in `dir` (SIGTERM, then SIGKILL) and removes `dir`. */
export function stopServer(dir: string): void;
