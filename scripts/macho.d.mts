/** What `checkMachO` found. */
export interface MachOFacts {
  minos: string;
  dylibs: string[];
  napiImports: number;
  signature: string | undefined;
}
/** Checks a darwin addon statically (see scripts/macho.mjs); throws naming the first failed check. */
export function checkMachO(path: string, expected: { cpu: 'arm64' | 'x64'; minos: string }): MachOFacts;
