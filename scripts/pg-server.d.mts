/** The server binaries' directory, installing Debian's postgresql if needed (as root). */
export function ensurePostgres(): string;
/** Starts a throwaway server with its data in `dir`; resolves to its URL. */
export function startServer(dir: string): Promise<string>;
/** Stops the server in `dir` and removes `dir`. */
export function stopServer(dir: string): void;
