/**
 * Intel 8042 keyboard controller, as the PC/AT and PS/2 program it, with a
 * PS/2 keyboard on its keyboard port and (by default) a PS/2 mouse on its
 * auxiliary port. References: IBM PC/AT Technical Reference, "Keyboard
 * Controller"; IBM PS/2 Hardware Interface Technical Reference,
 * "Keyboard/Auxiliary Device Controller".
 *
 * Regions: `data` (the PC decodes it at 60h) and `command` (64h), one byte
 * each. Irq outputs: 0 — the keyboard request (irq 1 on the PC); 1 — the
 * auxiliary-device request (irq 12). Host-side outputs, as callbacks in the
 * config: the A20 gate (output port bit 1) and CPU reset requests (output
 * port bit 0 written or pulsed low).
 *
 * The output buffer is one register. When it empties (the guest reads 60h)
 * the controller refills it from, in order: its own answer to a controller
 * command; the keyboard, unless its interface is disabled; the auxiliary
 * device, unless its interface is disabled. A byte from a disabled interface
 * waits in its device. Keyboard bytes are translated from set 2 to set 1
 * while the command byte's XLATE bit is set. irq 1 is high while the buffer
 * holds a byte not from the auxiliary device and KBD_INT is set; irq 12
 * while it holds an auxiliary byte and AUX_INT is set; each byte loaded
 * lowers and raises the line again, so every byte is an edge.
 *
 * Where the datasheets are silent, or where QEMU (7.2, the recorder of the
 * shared traces) answers differently and guests read the difference, this
 * follows QEMU, and says so at the spot:
 * - Status bit 3 (command/data) reads 1 whatever was written last, and
 *   status bit 2 (system flag) is set by the self-test only, never copied
 *   from the command byte. The datasheets have both follow the guest's
 *   writes; every status read after Linux's and SeaBIOS's command-byte and
 *   keyboard writes in the traces shows QEMU's values.
 * - Every byte is answered at once: IBF never reads 1 and nothing is
 *   delayed by the serial link's ~1 ms per byte (QEMU's optional
 *   kbd-throttle is off on the `pc` machine).
 * - Power-on: command byte 03h (both interrupts on, no translation), output
 *   port CFh, no BAT byte from the keyboard pending, status 18h.
 * - A read of 60h with the output buffer empty returns the last byte read
 *   (the register still holds it; QEMU's obdata).
 * Where this departs from QEMU, following the datasheets:
 * - irq 1 is not gated by the keyboard-disable bit (QEMU lowers irq 1 while
 *   KBD_DISABLE is set, noting it "may be incorrect"): a controller answer
 *   with KBD_INT set raises irq 1 even while the keyboard is disabled.
 * - Commands 21h–3Fh and 61h–7Fh read and write the controller's RAM.
 * - A second controller answer while the first is still unread waits
 *   behind it (QEMU replaces it); a third replaces the second (counted).
 */
import type { AccessSize, Device, DeviceContext, DeviceProgram, FastPathHints, IoRegion } from '@splitvisor/abi';
import { DeviceStateError, expectState } from '@splitvisor/abi';
import type { KeyEvent, Ps2KeyboardState } from '../ps2-keyboard/keyboard.ts';
import { Ps2Keyboard } from '../ps2-keyboard/keyboard.ts';
import { STATUS_PROGRAM } from './status-program.ts';
import type { KeyCode } from '../ps2-keyboard/scancodes.ts';
import { BREAK_PREFIX, TRANSLATION, isKeyCode } from '../ps2-keyboard/scancodes.ts';
import { strokesFor } from '../ps2-keyboard/us-layout.ts';
import type { Ps2MouseState } from '../ps2-mouse/mouse.ts';
import { Ps2Mouse } from '../ps2-mouse/mouse.ts';
import {
  CommandByte, ControllerCommand, INPUT_PORT, INTERFACE_OK, OutputPort, RAM_BYTES, SELF_TEST_PASSED, Status,
} from './registers.ts';

export interface I8042Config {
  /** A PS/2 mouse on the auxiliary port (default true). Without one, bytes sent to it time out. */
  readonly mouse?: boolean;
  /** Key events the host may queue ahead of the keyboard (default 256). */
  readonly hostQueueLimit?: number;
  /** The A20 gate changed (output port bit 1); also called with the current level at construction, restore and reset. */
  readonly onA20?: (level: boolean) => void;
  /** The guest asked for a CPU reset (output port bit 0 written or pulsed low). The board resets the machine, and this device with `reset()`. */
  readonly onReset?: () => void;
}

/** A byte in (or waiting for) the output buffer. */
export type OutputByte = {
  readonly value: number;
  /** From the auxiliary device (status bit 5, irq 12). */
  readonly aux: boolean;
  /** A device did not answer (status bit 6). */
  readonly timeout: boolean;
};

export type I8042State = {
  readonly model: 'i8042';
  readonly version: 1;
  /** Controller RAM; byte 0 is the command byte. */
  readonly ram: readonly number[];
  readonly systemFlag: boolean;
  /** Output port P2 as last written; bits 4–5 are not stored (they follow the output buffer). */
  readonly outputPort: number;
  readonly outputBuffer: OutputByte | null;
  /** What 60h reads while the output buffer is empty. */
  readonly lastRead: number;
  /** The controller command whose byte is expected at 60h, or 0. */
  readonly pendingCommand: number;
  /** The controller's own byte waiting for the output buffer. */
  readonly controllerByte: OutputByte | null;
  /** Translation dropped an F0h: the next keyboard byte gets bit 7. */
  readonly breakPending: boolean;
  readonly keyboard: Ps2KeyboardState;
  readonly mouse: Ps2MouseState | null;
};

/** The host misused the input API (an unknown key, a character no key types, a mouse that is not there). */
export class KeyboardInputError extends Error {
  override readonly name = 'KeyboardInputError';
}

export interface I8042Stats {
  a20Changes: number;
  resetRequests: number;
  /** Key events the host queued, and those refused because the queue was full. */
  keyEventsQueued: number;
  keyEventsRejected: number;
  /** Key events for a key with no code in the current scan code set (F13–F24 and the Japanese keys in set 3). */
  keyEventsWithoutCode: number;
  /** Host mouse movements cut short because the pending movement reached its bound. */
  mouseMotionClamped: number;
}

export interface KeyboardLeds {
  readonly scrollLock: boolean;
  readonly numLock: boolean;
  readonly capsLock: boolean;
}

const REGIONS: readonly IoRegion[] = [
  { name: 'data', space: 'port', length: 1, sizes: [1] },
  { name: 'command', space: 'port', length: 1, sizes: [1] },
];

const MODEL = 'i8042' as const;
const VERSION = 1;

/** QEMU's power-on command byte: both interrupts enabled, nothing disabled, no translation. */
const POWER_ON_COMMAND_BYTE = CommandByte.KBD_INT | CommandByte.AUX_INT;
const POWER_ON_OUTPUT_PORT = OutputPort.SYSTEM_RESET | OutputPort.A20 | OutputPort.IDLE_LINES;
const DEFAULT_HOST_QUEUE_LIMIT = 256;
/** What a command to a missing auxiliary device gets back, with the timeout bit. */
const NO_DEVICE = 0xfe;

export class I8042 implements Device<I8042State> {
  readonly model: 'i8042' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  /**
   * The status register (64h) may be answered from a value: reading it
   * changes nothing, and only an access to the controller (a write to either
   * port, a read of the output buffer) or a host key event (delivered by a
   * timer of the controller's domain) changes it.
   */
  readonly hints: FastPathHints = {
    cachedReads: [{ region: 'command', offset: 0, length: 1, invalidatedBy: [{ region: 'command', offset: 0, length: 1 }, { region: 'data', offset: 0, length: 1 }] }],
  };
  private readonly context: DeviceContext;
  private readonly config: I8042Config;
  private readonly keyboard: Ps2Keyboard;
  private readonly mouse: Ps2Mouse | undefined;
  private ram: number[] = [];
  private systemFlag = false;
  private outputPort = POWER_ON_OUTPUT_PORT;
  private outputBuffer: OutputByte | null = null;
  private lastRead = 0;
  private pendingCommand = 0;
  private controllerByte: OutputByte | null = null;
  private breakPending = false;
  /** The levels last driven on the two irq outputs: live handles, re-derived on restore. */
  private readonly lines = [false, false];
  private readonly odd = { unsupportedCommands: 0, emptyDataReads: 0, controllerBytesLost: 0, writesToMissingAux: 0 };
  private readonly counts = { a20Changes: 0, resetRequests: 0, keyEventsQueued: 0, keyEventsRejected: 0 };

  constructor(context: DeviceContext, config: I8042Config = {}) {
    this.context = context;
    this.config = config;
    this.keyboard = new Ps2Keyboard(config.hostQueueLimit ?? DEFAULT_HOST_QUEUE_LIMIT);
    this.mouse = config.mouse === false ? undefined : new Ps2Mouse();
    this.powerOn();
    this.driveOutputs();
  }

  private get commandByte(): number {
    return this.ram[0] ?? 0;
  }

  private set commandByte(value: number) {
    this.ram[0] = value & 0xff;
  }

  private powerOn(): void {
    this.ram = new Array<number>(RAM_BYTES).fill(0);
    this.commandByte = POWER_ON_COMMAND_BYTE;
    this.systemFlag = false;
    this.outputPort = POWER_ON_OUTPUT_PORT;
    this.outputBuffer = null;
    this.lastRead = 0;
    this.pendingCommand = 0;
    this.controllerByte = null;
    this.breakPending = false;
    this.keyboard.powerOn();
    this.mouse?.powerOn();
  }

  /** The machine was reset (the board calls this, e.g. after `onReset`): every part to its power-on state. */
  reset(): void {
    this.powerOn();
    this.driveOutputs();
  }

  // --- guest side ---------------------------------------------------------------

  cachedRead(region: string): number | undefined {
    return region === 'command' ? this.status() : undefined;
  }

  /** The status read as a program (`status-program.ts`): its scratch is the status byte. */
  readonly programs: readonly DeviceProgram[] = [{ region: 'command', offset: 0, length: 1, program: STATUS_PROGRAM }];

  programScratch(): Uint8Array {
    return Uint8Array.of(this.status());
  }

  adoptProgramScratch(): void {
    // A status read changes nothing: there is nothing to take back.
  }

  read(region: string, _offset: number, _size: AccessSize): number {
    if (region === 'command') return this.status();
    const held = this.outputBuffer;
    if (held === null) {
      this.odd.emptyDataReads++;
      return this.lastRead;
    }
    this.lastRead = held.value;
    this.outputBuffer = null;
    this.updateLines();
    this.refill();
    return held.value;
  }

  private status(): number {
    const held = this.outputBuffer;
    return (held === null ? 0 : Status.OBF | (held.aux ? Status.AUX_OBF : 0) | (held.timeout ? Status.TIMEOUT : 0))
      | (this.systemFlag ? Status.SYS : 0)
      | Status.CMD // QEMU: always 1 (see the header)
      | Status.UNLOCKED;
  }

  write(region: string, _offset: number, _size: AccessSize, value: number): void {
    const byte = value & 0xff;
    if (region === 'command') this.controllerCommand(byte);
    else this.dataByte(byte);
    this.updateLines();
    this.refill();
  }

  private controllerCommand(command: number): void {
    // A new command abandons one still waiting for its byte.
    this.pendingCommand = 0;
    if (command >= ControllerCommand.READ_RAM && command < ControllerCommand.READ_RAM + RAM_BYTES) {
      this.answer(this.ram[command - ControllerCommand.READ_RAM] ?? 0);
      return;
    }
    if (command >= ControllerCommand.WRITE_RAM && command < ControllerCommand.WRITE_RAM + RAM_BYTES) {
      this.pendingCommand = command;
      return;
    }
    if (command >= ControllerCommand.PULSE_OUTPUT) {
      // Bits 0–3 low pulse those output port bits for ~6 µs; only bit 0 (CPU reset) has a lasting effect.
      if ((command & OutputPort.SYSTEM_RESET) === 0) this.requestReset();
      return;
    }
    switch (command) {
      case ControllerCommand.WRITE_OUTPUT_PORT:
      case ControllerCommand.WRITE_KBD_OUTPUT:
      case ControllerCommand.WRITE_AUX_OUTPUT:
      case ControllerCommand.WRITE_AUX:
        this.pendingCommand = command;
        return;
      case ControllerCommand.DISABLE_AUX:
        this.commandByte |= CommandByte.AUX_DISABLE;
        return;
      case ControllerCommand.ENABLE_AUX:
        this.commandByte &= ~CommandByte.AUX_DISABLE;
        return;
      case ControllerCommand.TEST_AUX:
      case ControllerCommand.TEST_KBD:
        this.answer(INTERFACE_OK);
        return;
      case ControllerCommand.SELF_TEST:
        // QEMU leaves the command byte as it was.
        this.systemFlag = true;
        this.answer(SELF_TEST_PASSED);
        return;
      case ControllerCommand.DISABLE_KBD:
        this.commandByte |= CommandByte.KBD_DISABLE;
        return;
      case ControllerCommand.ENABLE_KBD:
        this.commandByte &= ~CommandByte.KBD_DISABLE;
        return;
      case ControllerCommand.READ_INPUT_PORT:
        this.answer(INPUT_PORT);
        return;
      case ControllerCommand.READ_OUTPUT_PORT:
        this.answer(this.outputPortValue());
        return;
      case ControllerCommand.DISABLE_A20:
      case ControllerCommand.ENABLE_A20:
        this.setA20(command === ControllerCommand.ENABLE_A20);
        return;
      default:
        this.odd.unsupportedCommands++;
        this.context.log.warn(`i8042: unsupported controller command ${hex(command)}`);
    }
  }

  private dataByte(byte: number): void {
    const command = this.pendingCommand;
    this.pendingCommand = 0;
    if (command >= ControllerCommand.WRITE_RAM && command < ControllerCommand.WRITE_RAM + RAM_BYTES) {
      this.ram[command - ControllerCommand.WRITE_RAM] = byte;
      return;
    }
    switch (command) {
      case 0:
        // Sending to the keyboard enables its interface again (as QEMU, and the PS/2 controller).
        this.commandByte &= ~CommandByte.KBD_DISABLE;
        this.keyboard.receive(byte);
        return;
      case ControllerCommand.WRITE_OUTPUT_PORT:
        this.writeOutputPort(byte);
        return;
      case ControllerCommand.WRITE_KBD_OUTPUT:
        this.answer(byte);
        return;
      case ControllerCommand.WRITE_AUX_OUTPUT:
        this.answer(byte, true);
        return;
      default: // WRITE_AUX
        if (this.mouse === undefined) {
          this.odd.writesToMissingAux++;
          this.answer(NO_DEVICE, true, true);
          return;
        }
        this.commandByte &= ~CommandByte.AUX_DISABLE;
        this.mouse.receive(byte);
    }
  }

  /** The controller's own byte for the output buffer. */
  private answer(value: number, aux = false, timeout = false): void {
    if (this.controllerByte !== null) {
      this.odd.controllerBytesLost++;
      this.context.log.warn(`i8042: controller byte ${hex(this.controllerByte.value)} replaced before it was read`);
    }
    this.controllerByte = { value, aux, timeout };
  }

  /** Fills an empty output buffer from the controller, the keyboard, then the auxiliary device. */
  private refill(): void {
    if (this.outputBuffer !== null) return;
    const byte = this.controllerByte ?? this.fromKeyboard() ?? this.fromMouse();
    if (byte === undefined) return;
    if (byte === this.controllerByte) this.controllerByte = null;
    this.outputBuffer = byte;
    this.updateLines();
  }

  private fromKeyboard(): OutputByte | undefined {
    if ((this.commandByte & CommandByte.KBD_DISABLE) !== 0) return undefined;
    while (this.keyboard.hasOutput()) {
      const raw = this.keyboard.send();
      if ((this.commandByte & CommandByte.XLATE) === 0) return { value: raw, aux: false, timeout: false };
      if (raw === BREAK_PREFIX) {
        this.breakPending = true;
        continue;
      }
      const value = (TRANSLATION[raw] ?? raw) | (this.breakPending ? 0x80 : 0);
      this.breakPending = false;
      return { value, aux: false, timeout: false };
    }
    return undefined;
  }

  private fromMouse(): OutputByte | undefined {
    if (this.mouse === undefined || (this.commandByte & CommandByte.AUX_DISABLE) !== 0 || !this.mouse.hasOutput()) return undefined;
    return { value: this.mouse.send(), aux: true, timeout: false };
  }

  // --- irq lines and output port -----------------------------------------------

  private levels(): [boolean, boolean] {
    const held = this.outputBuffer;
    const cb = this.commandByte;
    return [
      held !== null && !held.aux && (cb & CommandByte.KBD_INT) !== 0,
      held?.aux === true && (cb & CommandByte.AUX_INT) !== 0,
    ];
  }

  /** Drives each irq output whose level changed (or all, when forced). */
  private updateLines(force = false): void {
    this.levels().forEach((level, output) => {
      if (!force && this.lines[output] === level) return;
      this.lines[output] = level;
      this.context.setIrq(output, level);
    });
  }

  /** Re-drives every output from state: both irq lines and the A20 gate. */
  private driveOutputs(): void {
    this.updateLines(true);
    this.config.onA20?.((this.outputPort & OutputPort.A20) !== 0);
  }

  private outputPortValue(): number {
    const held = this.outputBuffer;
    return (this.outputPort & ~(OutputPort.KBD_OBF | OutputPort.AUX_OBF))
      | (held !== null && !held.aux ? OutputPort.KBD_OBF : 0)
      | (held?.aux === true ? OutputPort.AUX_OBF : 0);
  }

  private writeOutputPort(value: number): void {
    this.setA20((value & OutputPort.A20) !== 0);
    this.outputPort = value & ~(OutputPort.KBD_OBF | OutputPort.AUX_OBF);
    if ((value & OutputPort.SYSTEM_RESET) === 0) this.requestReset();
  }

  private setA20(level: boolean): void {
    const was = (this.outputPort & OutputPort.A20) !== 0;
    this.outputPort = level ? this.outputPort | OutputPort.A20 : this.outputPort & ~OutputPort.A20;
    if (was === level) return;
    this.counts.a20Changes++;
    this.config.onA20?.(level);
  }

  private requestReset(): void {
    this.counts.resetRequests++;
    this.config.onReset?.();
  }

  // --- host side ------------------------------------------------------------------

  /** Queues key events from the host, all or none; false (and counted) when the queue lacks room. */
  typeKeys(events: readonly KeyEvent[]): boolean {
    for (const event of events) {
      if (!isKeyCode(event.key)) throw new KeyboardInputError(`no key ${JSON.stringify(event.key)} on this keyboard`);
    }
    const accepted = this.keyboard.type(events);
    if (accepted) this.counts.keyEventsQueued += events.length;
    else this.counts.keyEventsRejected += events.length;
    this.refill();
    return accepted;
  }

  keyDown(key: KeyCode): boolean {
    return this.typeKeys([{ key, down: true }]);
  }

  keyUp(key: KeyCode): boolean {
    return this.typeKeys([{ key, down: false }]);
  }

  /** Down then up. */
  pressKey(key: KeyCode): boolean {
    return this.typeKeys([{ key, down: true }, { key, down: false }]);
  }

  /**
   * Types `text` on a US layout, a character at a time (Left Shift around
   * shifted ones); returns how many characters were queued, fewer than
   * `text.length` when the queue filled. Throws, queuing nothing, if a
   * character has no key.
   */
  typeText(text: string): number {
    const strokes: (readonly KeyEvent[])[] = [];
    for (const char of text) {
      const events = strokesFor(char);
      if (events === undefined) throw new KeyboardInputError(`no key types ${JSON.stringify(char)} on a US layout`);
      strokes.push(events);
    }
    let typed = 0;
    for (const events of strokes) {
      if (!this.typeKeys(events)) break;
      typed++;
    }
    return typed;
  }

  private requireMouse(): Ps2Mouse {
    if (this.mouse === undefined) throw new KeyboardInputError('no mouse on the auxiliary port');
    return this.mouse;
  }

  /** Mouse movement in screen sense (+x right, +y down); `dz` > 0 is the wheel turned towards the user. */
  mouseMove(dx: number, dy: number, dz = 0): void {
    this.requireMouse().move(dx, -dy, dz);
    this.refill();
  }

  /** The buttons held (MouseButton bits: left 1, right 2, middle 4, 4th 8, 5th 16). */
  mouseButtons(buttons: number): void {
    this.requireMouse().setButtons(buttons);
    this.refill();
  }

  /** The keyboard LEDs as the guest last set them. */
  leds(): KeyboardLeds {
    const leds = this.keyboard.leds;
    return { scrollLock: (leds & 1) !== 0, numLock: (leds & 2) !== 0, capsLock: (leds & 4) !== 0 };
  }

  /** The A20 gate's level (output port bit 1). */
  a20(): boolean {
    return (this.outputPort & OutputPort.A20) !== 0;
  }

  /** Host-side counts: A20 changes, reset requests, key events queued, rejected and without a code, mouse motion clamped. */
  stats(): Readonly<I8042Stats> {
    return {
      ...this.counts,
      keyEventsWithoutCode: this.keyboard.counts.keysWithoutCode,
      mouseMotionClamped: this.mouse?.counts.motionClamped ?? 0,
    };
  }

  // --- state -------------------------------------------------------------------------

  getState(): I8042State {
    return {
      model: MODEL, version: VERSION, ram: [...this.ram], systemFlag: this.systemFlag, outputPort: this.outputPort,
      outputBuffer: this.outputBuffer === null ? null : { ...this.outputBuffer }, lastRead: this.lastRead,
      pendingCommand: this.pendingCommand, controllerByte: this.controllerByte === null ? null : { ...this.controllerByte },
      breakPending: this.breakPending, keyboard: this.keyboard.getState(), mouse: this.mouse?.getState() ?? null,
    };
  }

  setState(state: I8042State): void {
    expectState(state, MODEL, VERSION);
    this.ram = Array.from({ length: RAM_BYTES }, (_, i) => (state.ram[i] ?? 0) & 0xff);
    this.systemFlag = state.systemFlag;
    this.outputPort = state.outputPort;
    this.outputBuffer = state.outputBuffer === null ? null : { ...state.outputBuffer };
    this.lastRead = state.lastRead;
    this.pendingCommand = state.pendingCommand;
    this.controllerByte = state.controllerByte === null ? null : { ...state.controllerByte };
    this.breakPending = state.breakPending;
    if ((state.mouse === null) !== (this.mouse === undefined)) {
      throw new DeviceStateError(`i8042 state ${state.mouse === null ? 'without' : 'with'} a mouse given to an i8042 ${this.mouse === undefined ? 'without' : 'with'} one`);
    }
    this.keyboard.setState(state.keyboard);
    if (state.mouse !== null) this.mouse?.setState(state.mouse);
    this.driveOutputs();
  }

  anomalies(): Readonly<Record<string, number>> {
    return {
      ...this.odd,
      unknownKeyboardCommands: this.keyboard.counts.unknownCommands,
      invalidKeyboardOptions: this.keyboard.counts.invalidOptions,
      unknownMouseCommands: this.mouse?.counts.unknownCommands ?? 0,
      invalidMouseOptions: this.mouse?.counts.invalidOptions ?? 0,
      mouseRepliesLost: this.mouse?.counts.repliesLost ?? 0,
    };
  }
}

function hex(byte: number): string {
  return `${byte.toString(16).padStart(2, '0')}h`;
}
