/** examples/pictures.ts (the README's pictures example) runs, prints what its comments say and writes its PNGs. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { REPO } from './helpers/paths.js';

it('examples/pictures.ts runs and writes a heatmap, an overlay at the original size and a colorbar', async () => {
  const out = mkdtempSync(join(tmpdir(), 'backlight-pictures-example-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/pictures.ts', out], { cwd: REPO, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^class 3\nheatmap 28 28\noverlay 112 112\ncolorbar relevance \| −[0-9.e-]+ \| 0 \| [0-9.e-]+\n$/);
    for (const [file, size] of [['heatmap.png', [28, 28]], ['overlay.png', [112, 112]]] as const) {
      const m = await sharp(readFileSync(join(out, file))).metadata();
      expect([m.format, m.width, m.height]).toEqual(['png', ...size]);
    }
    expect((await sharp(join(out, 'colorbar.png')).metadata()).height).toBeGreaterThan(112);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
