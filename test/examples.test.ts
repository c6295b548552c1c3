/** The README's API example runs and prints what the README says. */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { REPO } from './helpers/paths.js';

it('examples/explain.ts runs', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/explain.ts'], { cwd: REPO, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^targets \[\[\d,3\]\]\nattribution \[1,2,1,28,28\]\nmaxabs map \[1,2,28,28\]\n$/);
});
