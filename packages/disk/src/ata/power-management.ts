/**
 * The Power Management feature set (ATA/ATAPI-6: CHECK POWER MODE, IDLE,
 * IDLE IMMEDIATE, STANDBY, STANDBY IMMEDIATE, SLEEP; each also under its
 * pre-ATA-4 code 94h–99h), which a disk may implement and a PACKET device
 * shall: the modes, what each command asks, and what CHECK POWER MODE
 * answers. Nothing spins down here: the modes are only what the commands
 * report and how SLEEP shuts the device off until a reset.
 */
import { Command, PowerModeCode } from './registers.ts';

export type PowerMode = 'active' | 'idle' | 'standby' | 'sleep';

/**
 * What a Power Management command asks: `check` for CHECK POWER MODE, else
 * the mode it puts the device in (the IMMEDIATE forms and those with a
 * standby timer alike: the timer is not modelled); undefined for any other command.
 */
export function powerManagementRequest(command: number): PowerMode | 'check' | undefined {
  switch (command) {
    case Command.CHECK_POWER_MODE:
    case Command.CHECK_POWER_MODE_OLD: return 'check';
    case Command.STANDBY_IMMEDIATE:
    case Command.STANDBY_IMMEDIATE_OLD:
    case Command.STANDBY:
    case Command.STANDBY_OLD: return 'standby';
    case Command.IDLE_IMMEDIATE:
    case Command.IDLE_IMMEDIATE_OLD:
    case Command.IDLE:
    case Command.IDLE_OLD: return 'idle';
    case Command.SLEEP:
    case Command.SLEEP_OLD: return 'sleep';
    default: return undefined;
  }
}

/** CHECK POWER MODE's Sector Count output: 00h in standby, 80h idle, FFh active (or idle). */
export function powerModeCode(mode: PowerMode): number {
  return mode === 'standby' ? PowerModeCode.STANDBY : mode === 'idle' ? PowerModeCode.IDLE : PowerModeCode.ACTIVE_OR_IDLE;
}

/** A reset (SRST, EXECUTE DEVICE DIAGNOSTIC, DEVICE RESET) wakes a sleeping device to standby (ATA/ATAPI-6, SLEEP). */
export function powerModeAfterReset(mode: PowerMode): PowerMode {
  return mode === 'sleep' ? 'standby' : mode;
}
