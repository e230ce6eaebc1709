/** Reads a workspace folder's `.hearth/policy.jsonc`. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoPolicyInput } from '../../common/policy/combinePolicies';
import { parsePolicyText } from '../../common/policy/parsePolicy';
import { POLICY_FILE } from '../../common/policy/policySchema';

/** Path of the policy file of the folder at `folderPath`. */
export function policyFilePath(folderPath: string): string {
  return join(folderPath, ...POLICY_FILE.split('/'));
}

/**
 * The repo policy of the folder at `folderPath`: `undefined` when the file does not exist, the parsed policy, or
 * `{ error }` (with positions) when it cannot be read or is invalid — callers then fail closed.
 */
export async function readPolicyFile(folderPath: string): Promise<RepoPolicyInput> {
  let text: string;
  try {
    text = await readFile(policyFilePath(folderPath), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const message = `${POLICY_FILE} cannot be read: ${code ?? (err as Error).message}`;
    return { error: { file: POLICY_FILE, message, problems: [{ message, offset: 0, length: 1, line: 1, column: 1 }] } };
  }
  // Editors hide a byte-order mark; dropping it keeps offsets the same as in the open document.
  const parsed = parsePolicyText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  return parsed.ok ? parsed.policy : { error: parsed.error };
}
