/** Installs Debian `packages` with apt-get as root; otherwise throws naming the command, `why` and `alternative`. */
export function installDebianPackages(packages: readonly string[], why: string, alternative?: string): void;
