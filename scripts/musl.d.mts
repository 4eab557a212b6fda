/** The musl loader and musl Node of `arch`, fetched by `ensureMuslRuntime`; throws when missing. */
export function muslRuntime(arch: 'x64' | 'arm64'): { loader: string; node: string };
/** Fetches `arch`'s musl loader (Debian 13) and musl Node (PyPI) into ~/.cache/expbuf unless cached; `python` has pip. */
export function ensureMuslRuntime(arch: 'x64' | 'arm64', python: string): { loader: string; node: string };
