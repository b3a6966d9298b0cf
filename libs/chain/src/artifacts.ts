import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonFragment } from 'ethers';
import { ChainError, ChainErrorCode } from './chain.error.js';

/** The deployable contracts that scripts/compile-contracts.mjs produces. */
export type ArtifactName =
  'Controller' | 'Minter' | 'BondingManager' | 'RoundsManager' | 'TicketBroker' | 'ServiceRegistry';

export interface ContractArtifact {
  contractName: string;
  abi: JsonFragment[];
  /** Creation code, 0x-prefixed. */
  bytecode: string;
  /** Runtime code as `eth_getCode` returns it after deployment, 0x-prefixed. */
  deployedBytecode: string;
  compiler: { version: string; settings: Record<string, unknown> };
}

const ARTIFACTS_SUBDIR = join('contracts', 'artifacts');
const BUILD_HINT = 'run `npm run build:contracts`';
const cache = new Map<string, ContractArtifact>();
/** The default lookup's answer: every contract binding asks, and walking up costs a stat per level. */
let defaultDir: string | undefined;

/**
 * Finds `contracts/artifacts` by walking up from `startDir` (default: this file's folder), so it
 * works from the sources, from `dist/` and from any working directory.
 */
export function findArtifactsDir(startDir?: string): string {
  if (startDir === undefined)
    return (defaultDir ??= findArtifactsDir(dirname(fileURLToPath(import.meta.url))));
  for (let dir = startDir; ; dir = dirname(dir)) {
    const candidate = join(dir, ARTIFACTS_SUBDIR);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new ChainError(
    ChainErrorCode.ARTIFACT_MISSING,
    `no ${ARTIFACTS_SUBDIR} found above ${startDir}: ${BUILD_HINT}`,
  );
}

/** Loads (once per path) a compiled contract; `artifactsDir` overrides the lookup. */
export function loadArtifact(
  name: ArtifactName,
  artifactsDir: string = findArtifactsDir(),
): ContractArtifact {
  const file = join(artifactsDir, `${name}.json`);
  let artifact = cache.get(file);
  if (!artifact) {
    if (!existsSync(file)) {
      throw new ChainError(
        ChainErrorCode.ARTIFACT_MISSING,
        `contract artifact ${file} is missing: ${BUILD_HINT}`,
      );
    }
    artifact = JSON.parse(readFileSync(file, 'utf8')) as ContractArtifact;
    cache.set(file, artifact);
  }
  return artifact;
}
