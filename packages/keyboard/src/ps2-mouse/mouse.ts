/**
 * A PS/2 mouse (with the IntelliMouse wheel and 5-button extensions) at the
 * far end of the 8042's auxiliary port. IBM PS/2 Hardware Interface
 * Technical Reference, "Pointing Device".
 *
 * Replies and data reports share one 16-byte output buffer, in order (as
 * QEMU's mouse queues them). Reports are generated only while at least
 * `REPLY_HEADROOM` bytes stay free, so a reply always finds room unless the
 * guest issues commands without reading their answers (then it is dropped
 * and counted). Host movement accumulates in bounded counters and is
 * reported, in as many reports as it takes, whenever there is room — at
 * once, not at the sample rate: the sample rate is stored and reported
 * (E9h), not used to pace reports (QEMU does the same).
 */
import {
  DEFAULT_RESOLUTION, DEFAULT_SAMPLE_RATE, DeviceId, MOUSE_BUFFER_BYTES, MOVEMENT_MAX, MOVEMENT_MIN, MouseButton, MouseCommand,
  MouseReply, MouseStatus, PENDING_MOTION_LIMIT, Packet, REPLY_HEADROOM, SAMPLE_RATES,
} from './commands.ts';

export type Ps2MouseState = {
  readonly deviceId: number;
  readonly reporting: boolean;
  readonly remote: boolean;
  readonly scaling21: boolean;
  readonly wrap: boolean;
  readonly resolution: number;
  readonly sampleRate: number;
  /** The command whose option byte is awaited, or 0. */
  readonly awaiting: number;
  /** The last sample rates set (at most 3), for the IntelliMouse ID sequences. */
  readonly rateHistory: readonly number[];
  readonly buffer: readonly number[];
  readonly lastSent: number;
  /** Movement not yet reported, in the mouse's own sense (+x right, +y up, +z wheel towards the user). */
  readonly dx: number;
  readonly dy: number;
  readonly dz: number;
  readonly buttons: number;
  /** The buttons as last reported: a change needs a report even without movement. */
  readonly reportedButtons: number;
};

export interface MouseCounts {
  unknownCommands: number;
  invalidOptions: number;
  repliesLost: number;
  motionClamped: number;
}

export function powerOnMouse(): Ps2MouseState {
  return {
    deviceId: DeviceId.STANDARD, reporting: false, remote: false, scaling21: false, wrap: false,
    resolution: DEFAULT_RESOLUTION, sampleRate: DEFAULT_SAMPLE_RATE, awaiting: 0, rateHistory: [], buffer: [], lastSent: 0,
    dx: 0, dy: 0, dz: 0, buttons: 0, reportedButtons: 0,
  };
}

type Mutable = {
  -readonly [K in keyof Ps2MouseState]: Ps2MouseState[K] extends readonly number[] ? number[] : Ps2MouseState[K];
};

const copy = (state: Ps2MouseState): Mutable => ({ ...state, rateHistory: [...state.rateHistory], buffer: [...state.buffer] });

/** 2:1 scaling of a stream-mode report (datasheet table: 0 1 1 3 6 9, then twice the count). */
function scale21(v: number): number {
  const magnitude = Math.abs(v);
  const scaled = [0, 1, 1, 3, 6, 9][magnitude] ?? 2 * magnitude;
  return Math.sign(v) * scaled;
}

const clampTo = (v: number, min: number, max: number): number => Math.min(max, Math.max(min, v));

export class Ps2Mouse {
  private s: Mutable = copy(powerOnMouse());
  readonly counts: MouseCounts = { unknownCommands: 0, invalidOptions: 0, repliesLost: 0, motionClamped: 0 };

  get buttons(): number {
    return this.s.buttons;
  }

  hasOutput(): boolean {
    return this.s.buffer.length > 0;
  }

  send(): number {
    const byte = this.s.buffer.shift() ?? 0;
    this.s.lastSent = byte;
    this.stream();
    return byte;
  }

  /** Host movement (mouse sense: +y up, +z wheel towards the user); ignored while reporting is off, as the mouse does not count then. */
  move(dx: number, dy: number, dz: number): void {
    const s = this.s;
    if (!s.reporting) return;
    s.dx = this.accumulate(s.dx, dx);
    s.dy = this.accumulate(s.dy, dy);
    s.dz = this.accumulate(s.dz, dz);
    this.stream();
  }

  setButtons(buttons: number): void {
    this.s.buttons = buttons & 0x1f;
    this.stream();
  }

  private accumulate(pending: number, delta: number): number {
    const sum = pending + Math.trunc(delta);
    const bounded = clampTo(sum, -PENDING_MOTION_LIMIT, PENDING_MOTION_LIMIT);
    if (bounded !== sum) this.counts.motionClamped++;
    return bounded;
  }

  private packetBytes(): number {
    return this.s.deviceId === DeviceId.STANDARD ? 3 : 4;
  }

  private somethingToReport(): boolean {
    const s = this.s;
    return s.dx !== 0 || s.dy !== 0 || s.dz !== 0 || s.buttons !== s.reportedButtons;
  }

  /** Stream mode: report pending movement and button changes while there is room. */
  private stream(): void {
    const s = this.s;
    if (!s.reporting || s.remote || s.wrap) return;
    while (this.somethingToReport() && s.buffer.length + this.packetBytes() <= MOUSE_BUFFER_BYTES - REPLY_HEADROOM) {
      s.buffer.push(...this.report(true));
    }
  }

  /**
   * One data report from the pending movement, which it consumes. `split`
   * (stream mode): take what fits in 9 bits and leave the rest for the next
   * report. Otherwise (Read Data): report what fits with the overflow bits
   * set where it did not, and reset the counters, as the mouse does.
   */
  private report(split: boolean): number[] {
    const s = this.s;
    const x = clampTo(s.dx, MOVEMENT_MIN, MOVEMENT_MAX);
    const y = clampTo(s.dy, MOVEMENT_MIN, MOVEMENT_MAX);
    const overflow = (x !== s.dx ? Packet.X_OVERFLOW : 0) | (y !== s.dy ? Packet.Y_OVERFLOW : 0);
    s.dx = split ? s.dx - x : 0;
    s.dy = split ? s.dy - y : 0;
    const rx = clampTo(split && s.scaling21 ? scale21(x) : x, MOVEMENT_MIN, MOVEMENT_MAX);
    const ry = clampTo(split && s.scaling21 ? scale21(y) : y, MOVEMENT_MIN, MOVEMENT_MAX);
    const first = Packet.ALWAYS_ONE | (s.buttons & (MouseButton.LEFT | MouseButton.RIGHT | MouseButton.MIDDLE))
      | (rx < 0 ? Packet.X_SIGN : 0) | (ry < 0 ? Packet.Y_SIGN : 0) | (split ? 0 : overflow);
    const bytes = [first, rx & 0xff, ry & 0xff];
    s.reportedButtons = s.buttons;
    if (s.deviceId === DeviceId.INTELLIMOUSE) {
      const z = clampTo(s.dz, -128, 127);
      bytes.push(z & 0xff);
      s.dz = split ? s.dz - z : 0;
    } else if (s.deviceId === DeviceId.INTELLIMOUSE_EXPLORER) {
      const z = clampTo(s.dz, -8, 7);
      bytes.push((z & 0x0f) | ((s.buttons & (MouseButton.FOURTH | MouseButton.FIFTH)) << 1));
      s.dz = split ? s.dz - z : 0;
    } else {
      s.dz = 0; // a standard mouse has no wheel to report
    }
    return bytes;
  }

  private reply(...bytes: number[]): void {
    if (this.s.buffer.length + bytes.length > MOUSE_BUFFER_BYTES) {
      this.counts.repliesLost++;
      return;
    }
    this.s.buffer.push(...bytes);
  }

  /** A byte from the controller (D4h): a command, its option byte, or — in wrap mode — a byte to echo. */
  receive(byte: number): void {
    const s = this.s;
    const awaiting = s.awaiting;
    s.awaiting = 0;
    if (awaiting !== 0) {
      this.option(awaiting, byte);
    } else if (s.wrap && byte !== MouseCommand.RESET_WRAP_MODE && byte !== MouseCommand.RESET) {
      this.reply(byte);
    } else {
      this.command(byte);
    }
    this.stream();
  }

  private option(command: number, byte: number): void {
    const s = this.s;
    if (command === MouseCommand.SET_RESOLUTION) {
      if (byte > 3) {
        this.counts.invalidOptions++;
        this.reply(MouseReply.RESEND);
        return;
      }
      s.resolution = byte;
      this.reply(MouseReply.ACK);
      return;
    }
    // SET_SAMPLE_RATE
    if (!SAMPLE_RATES.includes(byte)) {
      this.counts.invalidOptions++;
      this.reply(MouseReply.RESEND);
      return;
    }
    s.sampleRate = byte;
    s.rateHistory = [...s.rateHistory, byte].slice(-3);
    const [a, b, c] = s.rateHistory;
    if (a === 200 && b === 100 && c === 80 && s.deviceId === DeviceId.STANDARD) s.deviceId = DeviceId.INTELLIMOUSE;
    else if (a === 200 && b === 200 && c === 80 && s.deviceId === DeviceId.INTELLIMOUSE) s.deviceId = DeviceId.INTELLIMOUSE_EXPLORER;
    this.reply(MouseReply.ACK);
  }

  private command(byte: number): void {
    const s = this.s;
    if (byte !== MouseCommand.RESEND && byte !== MouseCommand.READ_DATA) {
      // Every command but Resend resets the movement counters (Read Data does, after its report).
      s.dx = 0;
      s.dy = 0;
      s.dz = 0;
    }
    switch (byte) {
      case MouseCommand.SET_SCALING_1_1:
      case MouseCommand.SET_SCALING_2_1:
        s.scaling21 = byte === MouseCommand.SET_SCALING_2_1;
        this.reply(MouseReply.ACK);
        return;
      case MouseCommand.SET_RESOLUTION:
      case MouseCommand.SET_SAMPLE_RATE:
        s.awaiting = byte;
        this.reply(MouseReply.ACK);
        return;
      case MouseCommand.STATUS_REQUEST: {
        const buttons = ((s.buttons & MouseButton.LEFT) !== 0 ? MouseStatus.LEFT : 0)
          | ((s.buttons & MouseButton.MIDDLE) !== 0 ? MouseStatus.MIDDLE : 0)
          | ((s.buttons & MouseButton.RIGHT) !== 0 ? MouseStatus.RIGHT : 0);
        const status = buttons | (s.scaling21 ? MouseStatus.SCALING_2_1 : 0) | (s.reporting ? MouseStatus.ENABLED : 0)
          | (s.remote ? MouseStatus.REMOTE : 0);
        this.reply(MouseReply.ACK, status, s.resolution, s.sampleRate);
        return;
      }
      case MouseCommand.SET_STREAM_MODE:
      case MouseCommand.SET_REMOTE_MODE:
        s.remote = byte === MouseCommand.SET_REMOTE_MODE;
        this.reply(MouseReply.ACK);
        return;
      case MouseCommand.READ_DATA:
        this.reply(MouseReply.ACK, ...this.report(false));
        return;
      case MouseCommand.RESET_WRAP_MODE:
      case MouseCommand.SET_WRAP_MODE:
        s.wrap = byte === MouseCommand.SET_WRAP_MODE;
        this.reply(MouseReply.ACK);
        return;
      case MouseCommand.GET_DEVICE_ID:
        this.reply(MouseReply.ACK, s.deviceId);
        return;
      case MouseCommand.ENABLE_DATA_REPORTING:
      case MouseCommand.DISABLE_DATA_REPORTING:
        s.reporting = byte === MouseCommand.ENABLE_DATA_REPORTING;
        this.reply(MouseReply.ACK);
        return;
      case MouseCommand.SET_DEFAULTS:
        this.restoreDefaults();
        this.reply(MouseReply.ACK);
        return;
      case MouseCommand.RESEND:
        this.reply(s.lastSent);
        return;
      case MouseCommand.RESET:
        this.restoreDefaults();
        s.deviceId = DeviceId.STANDARD;
        s.wrap = false;
        s.buffer = [];
        this.reply(MouseReply.ACK, MouseReply.BAT_OK, DeviceId.STANDARD);
        return;
      default:
        this.counts.unknownCommands++;
        this.reply(MouseReply.RESEND);
    }
  }

  /** Defaults: 100 reports/s, 4 counts/mm, 1:1, stream mode, reporting off. */
  private restoreDefaults(): void {
    const s = this.s;
    s.sampleRate = DEFAULT_SAMPLE_RATE;
    s.resolution = DEFAULT_RESOLUTION;
    s.scaling21 = false;
    s.remote = false;
    s.reporting = false;
    s.rateHistory = [];
  }

  powerOn(): void {
    this.s = copy(powerOnMouse());
  }

  getState(): Ps2MouseState {
    return copy(this.s);
  }

  setState(state: Ps2MouseState): void {
    this.s = copy(state);
  }
}
