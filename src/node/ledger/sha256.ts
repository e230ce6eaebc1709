import { createHash } from 'node:crypto';
import type { HashFn } from '../../common/ledger/hashChain';

/** The ledger's hash: SHA-256 of the line's UTF-8 bytes, hex. */
export const sha256Hex: HashFn = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
