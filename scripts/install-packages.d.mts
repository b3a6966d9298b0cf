export function installPackages(
  root: string,
  options?: { npm?: string; write?: (text: string) => void },
): number;
