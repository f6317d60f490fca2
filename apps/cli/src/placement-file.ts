/**
 * Where a run's placement comes from: a named profile (`--profile NAME`) or a
 * file the user wrote (`--placement FILE`) — JSON in the shape `splitvisor
 * profiles --show NAME` prints, checked by the placement schema. A bad file
 * is one line naming the file, the field and the problem; nothing runs.
 */
import type { Placement, PlacementFile } from '@splitvisor/placement';
import { profile, validatePlacement } from '@splitvisor/placement';
import { CliError } from './cli-error.ts';
import { readJsonFile } from './json-file.ts';

export type PlacementRef = { readonly profile: string } | { readonly file: string };

export interface ChosenPlacement {
  /** How reports name it: the profile's name, or the name the file gives its placement. */
  readonly label: string;
  readonly placement: Placement;
}

/** A profile's name, where a placement comes from, or one already read and checked. */
export type PlacementChoice = string | PlacementRef | ChosenPlacement;

/** The placement a choice names (a bare string is a profile's name); one already chosen is itself: a file is read once. */
export function choosePlacement(ref: PlacementChoice): ChosenPlacement {
  if (typeof ref === 'string') return choosePlacement({ profile: ref });
  if ('placement' in ref) return ref;
  if ('profile' in ref) {
    const file = profile(ref.profile);
    if (file === undefined) throw new CliError(`unknown profile "${ref.profile}" (see splitvisor profiles)`);
    const result = validatePlacement(file);
    if (!result.ok) throw new CliError(`profile ${ref.profile} is invalid: ${result.problems.join('; ')}`);
    return { label: ref.profile, placement: result.placement };
  }
  const result = validatePlacement(readJsonFile(ref.file, 'placement file'));
  if (!result.ok) throw new CliError(`${ref.file}: ${result.problems.join('; ')}`);
  return { label: result.placement.name, placement: result.placement };
}

/** The one placement a command's `--profile` or `--placement` names (`fallback` profile when neither is given). */
export function placementRef(flags: { readonly profile?: string; readonly placement?: string }, fallback?: string): PlacementRef {
  if (flags.profile !== undefined && flags.placement !== undefined) throw new CliError('give --profile NAME or --placement FILE, not both');
  if (flags.placement !== undefined) return { file: flags.placement };
  const name = flags.profile ?? fallback;
  if (name === undefined) throw new CliError('give --profile NAME (see splitvisor profiles) or --placement FILE (see splitvisor profiles --show NAME)');
  return { profile: name };
}

/** A profile as a file the user can copy and edit, then run with `--placement` (JSON, two-space indented). */
export function profileAsFile(name: string): string {
  const file: PlacementFile | undefined = profile(name);
  if (file === undefined) throw new CliError(`unknown profile "${name}" (see splitvisor profiles)`);
  return `${JSON.stringify(file, null, 2)}\n`;
}
