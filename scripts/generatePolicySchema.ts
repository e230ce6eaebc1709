/**
 * Writes `schemas/policy.schema.json` (contributed through `jsonValidation` for `.hearth/policy.jsonc`) from the
 * zod schema in `src/common/policy`. A unit test fails while the committed file differs.
 *
 *   npm run schema:policy
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { policyJsonSchema } from '../src/common/policy/policySchema';

export const policySchemaPath = path.resolve(__dirname, '../../schemas/policy.schema.json');

fs.mkdirSync(path.dirname(policySchemaPath), { recursive: true });
fs.writeFileSync(policySchemaPath, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), policySchemaPath)}`);
