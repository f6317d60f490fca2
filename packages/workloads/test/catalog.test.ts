import { describe, expect, it } from 'vitest';
import { WORKLOAD_ALIASES, WORKLOAD_DEFINITIONS, WORKLOAD_MIXES, createWorkload, resolveParameters, workloadDefinition } from '../src/index.ts';

describe('the workload catalog', () => {
  it('names every workload and parameter in kebab case, cites what it follows, and defaults within its own bounds', () => {
    const names = WORKLOAD_DEFINITIONS.map((w) => w.name);
    expect(new Set(names).size).toBe(names.length);
    for (const w of WORKLOAD_DEFINITIONS) {
      expect(w.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(w.follows.length, w.name).toBeGreaterThan(20);
      for (const p of w.parameters) {
        expect(p.name, w.name).toMatch(/^[a-z][a-z0-9-]*$/);
        if (p.choices !== undefined) expect(p.choices, `${w.name} ${p.name}`).toContain(p.default);
      }
      expect(() => resolveParameters(w, {}), w.name).not.toThrow();
    }
    for (const [alias, name] of Object.entries(WORKLOAD_ALIASES)) expect(workloadDefinition(alias)?.name).toBe(name);
  });

  it('refuses an unknown workload, an unknown parameter and a value out of bounds, naming each', () => {
    expect(() => createWorkload('doom')).toThrow(/unknown workload "doom" \(this build has: linux-idle-pit, .*; mixes: mixed-desktop, mixed-server\)$/);
    expect(() => createWorkload('linux-idle-pit', { sectors: 8 })).toThrow('workload linux-idle-pit has no parameter sectors (it takes hz)');
    expect(() => createWorkload('linux-idle-pit', { hz: '99' })).toThrow('workload linux-idle-pit: parameter hz takes one of 100, 250, 300, 1000, not "99"');
    expect(() => createWorkload('vmexit', { iterations: '-1' })).toThrow(/parameter iterations takes a whole number of at least 0/);
  });

  it('builds mixes only of workloads it has, with shares that add up to the whole run', () => {
    for (const mix of WORKLOAD_MIXES) {
      expect(mix.components.reduce((sum, c) => sum + c.share, 0), mix.name).toBeCloseTo(1, 9);
      for (const c of mix.components) expect(() => createWorkload(c.workload, c.parameters), `${mix.name}: ${c.workload}`).not.toThrow();
      expect(workloadDefinition(mix.name)).toBeUndefined(); // a mix is not a guest of its own
    }
  });
});
