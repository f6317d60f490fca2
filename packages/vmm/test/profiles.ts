// The named profiles as the tests use them: validated, so a broken profile fails loudly here.
import { PROFILES, validatePlacement } from '@splitvisor/placement';
import type { Placement } from '@splitvisor/placement';

export function placement(name: string): Placement {
  const result = validatePlacement(PROFILES.find((p) => p.name === name));
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.placement;
}
