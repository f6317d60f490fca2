// The named profiles as the tests use them: validated, so a broken profile fails loudly here.
import { PROFILES, validatePlacement } from '@splitvisor/placement';
import type { Placement } from '@splitvisor/placement';

/**
 * The profile `name`. Its guest time is the cycles the guest ran (seed 000's policy) unless `time` says
 * otherwise: most tests hold the guest's view identical across placements, which exits that take guest time
 * (KVM's profiles' own policy) would change by design; those that test exit time ask for the profile's own.
 */
export function placement(name: string, time: 'guest-cycles' | 'profile' = 'guest-cycles'): Placement {
  const result = validatePlacement(PROFILES.find((p) => p.name === name));
  if (!result.ok) throw new Error(result.problems.join('; '));
  return time === 'profile' ? result.placement : { ...result.placement, time: { kind: 'guest-cycles' } };
}
