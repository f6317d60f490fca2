/**
 * The device host — QEMU's role: the devices placed in userspace, on a bus of
 * their own, answering the exits the run ioctl returns. Its time is the
 * guest's time at each exit (it has no clock of its own); before it handles
 * an exit it fires its devices' timers due by then, and each reply (the next
 * `run`) carries its earliest timer deadline, so the kernel stops the guest
 * there with an `intr` exit, as QEMU's timer thread kicks a vCPU. Irq lines
 * go back to the kernel as `irq-line` ioctls, posted ahead of the reply;
 * changes made between exits (at power-on, by a restore) go when the kernel
 * sends `resume` before starting the guest (as QEMU raises its reset-time
 * lines before the first KVM_RUN), or else with the next exit — so the
 * kernel applies them at the same virtual time whichever transport carries
 * them.
 */
import type { DeviceContext, DeviceLogger, DeviceState, Exit, GuestMemory, Message, Nanoseconds, Timer } from '@splitvisor/abi';
import { ErrorCode, IoBus, NEVER } from '@splitvisor/abi';
import type { ChannelEnd, ChannelHandler } from '@splitvisor/channel';
import { TimerQueue } from '@splitvisor/clock';

export interface HostedDevice {
  readonly name: string;
  getState(): DeviceState;
  setState(state: DeviceState): void;
}

/** Guest memory is not reachable from the device host yet: DMA over the boundary comes with the DMA devices. */
const NO_MEMORY: GuestMemory = { size: 0, read: () => false, write: () => false };

const EMPTY = new Uint8Array(0);

export class DeviceHost {
  readonly bus = new IoBus();
  private readonly timers = new TimerQueue();
  private readonly end: ChannelEnd;
  private readonly devices = new Map<string, HostedDevice>();
  private readonly lineLevels = new Map<number, boolean>();
  /** Line changes made between exits (at power-on, by a restore): sent with the next exit, at its time. */
  private readonly heldLines: { gsi: number; level: boolean }[] = [];
  private inExit = false;
  private time: Nanoseconds = 0;
  readonly log: string[] = [];
  readonly handled = { io: 0, mmio: 0, intr: 0, irqLines: 0 };

  constructor(end: ChannelEnd) {
    this.end = end;
    end.setHandler(this.handler());
  }

  /**
   * The context for a device hosted here: virtual time from the exits, timers
   * on this host's queue, irq output n driving GSI `gsiOf(n)` in the kernel.
   */
  context(name: string, gsiOf: (output: number) => number): DeviceContext {
    const log: DeviceLogger = {
      debug: () => undefined,
      warn: (message) => { this.log.push(`${name}: ${message}`); },
    };
    return {
      now: () => this.time,
      timer: (callback): Timer => this.timers.timer(callback),
      setIrq: (output, level) => { this.setLine(gsiOf(output), level); },
      memory: NO_MEMORY,
      log,
    };
  }

  /** Makes `device`'s state reachable by name (get/set device state ioctls). */
  host(device: HostedDevice): void {
    this.devices.set(device.name, device);
  }

  private setLine(gsi: number, level: boolean): void {
    if (this.lineLevels.get(gsi) === level) return;
    this.lineLevels.set(gsi, level);
    this.handled.irqLines++;
    if (this.inExit) this.end.post({ kind: 'irq-line', gsi, level });
    else this.heldLines.push({ gsi, level });
  }

  /** Brings device time to `time`, firing every timer due on the way at its deadline. */
  private advanceTo(time: Nanoseconds): void {
    this.timers.advanceTo(time, (due) => { this.time = Math.max(this.time, due); });
    this.time = Math.max(this.time, time);
  }

  private resume(vcpu: number, completion: Uint8Array): Message {
    return { kind: 'run', vcpu, completion, requestInterruptWindow: false, immediateExit: false, deadline: this.timers.nextDeadline() };
  }

  /** Answers one exit: the `run` that resumes the vCPU. */
  handleExit(exit: Exit): Message {
    this.inExit = true;
    try {
      for (const { gsi, level } of this.heldLines.splice(0)) this.end.post({ kind: 'irq-line', gsi, level });
      this.advanceTo(exit.time);
      return this.dispatch(exit);
    } finally {
      this.inExit = false;
    }
  }

  private dispatch(exit: Exit): Message {
    switch (exit.kind) {
      case 'io':
      case 'mmio':
        this.handled[exit.kind]++;
        return this.resume(exit.vcpu, this.bus.answer(exit));
      case 'intr':
        this.handled.intr++;
        return this.resume(exit.vcpu, EMPTY);
      default:
        // hlt, irq-window-open, shutdown, ioapic-eoi, internal-error: nothing for the devices here to do yet.
        return this.resume(exit.vcpu, EMPTY);
    }
  }

  private handler(): ChannelHandler {
    return {
      onCall: (message) => {
        switch (message.kind) {
          case 'io':
          case 'mmio':
          case 'hlt':
          case 'irq-window-open':
          case 'shutdown':
          case 'intr':
          case 'ioapic-eoi':
          case 'internal-error':
            return this.handleExit(message);
          case 'get-device-state': {
            const device = this.devices.get(message.device);
            if (device === undefined) return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${message.device} in the device host` };
            return { kind: 'device-state', device: message.device, state: device.getState() };
          }
          case 'set-device-state': {
            const device = this.devices.get(message.device);
            if (device === undefined) return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${message.device} in the device host` };
            try {
              device.setState(message.state);
            } catch (error) {
              return { kind: 'error', code: ErrorCode.Invalid, message: error instanceof Error ? error.message : String(error) };
            }
            return { kind: 'ok' };
          }
          case 'resume':
            // The kernel starts (or resumes) the guest: lines set meanwhile — at power-on, by a restore — go now.
            for (const { gsi, level } of this.heldLines.splice(0)) this.end.post({ kind: 'irq-line', gsi, level });
            return { kind: 'ok' };
          default:
            return { kind: 'error', code: ErrorCode.Unsupported, message: `${message.kind} is not served by the device host` };
        }
      },
      onPost: () => undefined,
    };
  }

  /** The device host's earliest timer deadline (NEVER if none). */
  nextDeadline(): Nanoseconds {
    return this.timers.size === 0 ? NEVER : this.timers.nextDeadline();
  }
}
