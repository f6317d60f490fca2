/**
 * The ACPI PM timer: a 24-bit (or, with the FADT's TMR_VAL_EXT, 32-bit)
 * free-running counter at 3.579545 MHz, read-only, counted from VM start;
 * TMR_STS is set each time the counter's top bit changes, and raises SCI
 * while TMR_EN is set. ACPI Specification 6.5, §4.8.3.3 and §4.8.3.1.
 *
 * Regions: `pm1-event` (PM1_STS, PM1_EN; the PC puts PMBASE at 600h in
 * QEMU's PIIX4) and `pm-timer` (PM_TMR, 32-bit reads, PMBASE+8). Irq output 0:
 * SCI. Only the timer's status and enable are modelled in the PM1 block;
 * other enables are stored, other status bits read 0.
 */
import type { AccessSize, CounterView, Device, DeviceContext, IoRegion, Timer } from '@splitvisor/abi';
import { counterValueAt, expectState, tickTime, ticksAt } from '@splitvisor/abi';
import { PM1_EN, PM1_EN_WRITABLE, PM1_STS, PM_TIMER_HZ, Pm1En, Pm1Sts } from './registers.ts';

export interface AcpiPmTimerConfig {
  /** 24 (the default, every PC) or 32 (FADT TMR_VAL_EXT, as Xen offers). */
  readonly widthBits?: 24 | 32;
}

export type AcpiPmTimerState = {
  readonly model: 'acpi-pm-timer';
  readonly version: 1;
  readonly pm1En: number;
  /** The PM timer tick at which TMR_STS was last cleared (0 at power-on). */
  readonly stsClearedAtTick: number;
};

const MODEL = 'acpi-pm-timer' as const;
const VERSION = 1;

export class AcpiPmTimer implements Device<AcpiPmTimerState> {
  readonly model: 'acpi-pm-timer' = MODEL;
  readonly regions: readonly IoRegion[] = [
    { name: 'pm1-event', space: 'port', length: 4, sizes: [1, 2, 4] },
    { name: 'pm-timer', space: 'port', length: 4, sizes: [4] },
  ];
  private readonly context: DeviceContext;
  private readonly widthBits: 24 | 32;
  private readonly timer: Timer;
  private pm1En = 0;
  private stsClearedAtTick = 0;
  private readonly odd = { writesToPmTimer: 0, narrowPmTimerReads: 0 };

  constructor(context: DeviceContext, config: AcpiPmTimerConfig = {}) {
    this.context = context;
    this.widthBits = config.widthBits ?? 24;
    this.timer = context.timer(() => { this.update(); });
    this.update();
  }

  private tick(): number {
    return ticksAt(this.context.now(), PM_TIMER_HZ);
  }

  /** TMR_STS: the top bit of the counter has changed since it was last cleared (ACPI §4.8.3.3). */
  private tmrSts(tick: number): boolean {
    const half = 2 ** (this.widthBits - 1);
    return Math.floor(tick / half) > Math.floor(this.stsClearedAtTick / half);
  }

  private pm1Sts(tick: number): number {
    return this.tmrSts(tick) ? Pm1Sts.TMR_STS : 0;
  }

  read(region: string, offset: number, size: AccessSize): number {
    const tick = this.tick();
    if (region === 'pm-timer') {
      if (size !== 4) this.odd.narrowPmTimerReads++;
      const value = tick % 2 ** this.widthBits;
      return Math.floor(value / 2 ** (8 * offset)) % 2 ** (8 * size);
    }
    const block = this.pm1Sts(tick) | (this.pm1En << 16);
    return (block >>> (8 * offset)) & (size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region === 'pm-timer') {
      this.odd.writesToPmTimer++; // read-only (ACPI §4.8.3.3)
      return;
    }
    // Place the written bytes in the 32-bit PM1 block: PM1_STS in the low half, PM1_EN in the high.
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      if (at === PM1_STS && (byte & Pm1Sts.TMR_STS) !== 0) this.stsClearedAtTick = this.tick(); // write 1 to clear
      if (at === PM1_EN) this.pm1En = (this.pm1En & 0xff00) | (byte & PM1_EN_WRITABLE & 0xff);
      if (at === PM1_EN + 1) this.pm1En = (this.pm1En & 0x00ff) | ((byte << 8) & PM1_EN_WRITABLE);
    }
    this.update();
  }

  /** Drives SCI and arms the timer for the next TMR_STS, if it would raise SCI. */
  private update(): void {
    const tick = this.tick();
    const enabled = (this.pm1En & Pm1En.TMR_EN) !== 0;
    const status = this.tmrSts(tick);
    this.context.setIrq(0, enabled && status);
    if (enabled && !status) {
      const half = 2 ** (this.widthBits - 1);
      this.timer.arm(tickTime((Math.floor(this.stsClearedAtTick / half) + 1) * half, PM_TIMER_HZ));
    } else {
      this.timer.cancel();
    }
  }

  counterViews(): readonly CounterView[] {
    return [{ region: 'pm-timer', offset: 0, widthBits: this.widthBits, frequencyHz: PM_TIMER_HZ, base: 0n, epoch: 0, running: true }];
  }

  /** The counter as the generic kernel counter serves it (for tests and the kernel's fast path alike). */
  counterValue(): bigint {
    const [view] = this.counterViews();
    return view === undefined ? 0n : counterValueAt(view, this.context.now());
  }

  getState(): AcpiPmTimerState {
    return { model: MODEL, version: VERSION, pm1En: this.pm1En, stsClearedAtTick: this.stsClearedAtTick };
  }

  setState(state: AcpiPmTimerState): void {
    expectState(state, MODEL, VERSION);
    this.pm1En = state.pm1En;
    this.stsClearedAtTick = state.stsClearedAtTick;
    this.update();
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
