// A Device around the APIC timer, so the shared suites can drive it through "registers" the way the LAPIC will:
// the timer's own LAPIC offsets, IA32_TSC_DEADLINE at 3F0h/3F4h (low, high), and the deliveries so far at 3F8h.
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import type { ApicTimerState } from '../src/index.ts';
import { ApicTimer, ApicTimerReg } from '../src/index.ts';

export const TSC_DEADLINE_LOW = 0x3f0;
export const TSC_DEADLINE_HIGH = 0x3f4;
export const DELIVERIES = 0x3f8;

export type HarnessState = {
  readonly model: 'apic-timer-harness';
  readonly version: 1;
  readonly timer: ApicTimerState;
  readonly delivered: number;
  readonly lastVector: number;
};

export class TimerHarness implements Device<HarnessState> {
  readonly model = 'apic-timer-harness' as const;
  readonly regions: readonly IoRegion[] = [{ name: 'lapic', space: 'mmio', length: 0x400, sizes: [4] }];
  readonly timer: ApicTimer;
  delivered = 0;
  lastVector = -1;
  private readonly context: DeviceContext;

  constructor(context: DeviceContext, config: { busHz?: number; tscHz?: number } = {}) {
    this.context = context;
    this.timer = new ApicTimer(context, (vector) => {
      this.delivered++;
      this.lastVector = vector;
      // A delivery is an edge into the LAPIC's IRR: show it as a pulse.
      context.setIrq(0, true);
      context.setIrq(0, false);
    }, config);
  }

  read(_region: string, offset: number, _size: AccessSize): number {
    switch (offset) {
      case ApicTimerReg.LVT_TIMER: return this.timer.readLvt();
      case ApicTimerReg.INITIAL_COUNT: return this.timer.readInitialCount();
      case ApicTimerReg.CURRENT_COUNT: return this.timer.readCurrentCount();
      case ApicTimerReg.DIVIDE_CONFIG: return this.timer.readDivideConfig();
      case TSC_DEADLINE_LOW: return Number(this.timer.readTscDeadline() & 0xffff_ffffn);
      case TSC_DEADLINE_HIGH: return Number(this.timer.readTscDeadline() >> 32n);
      case DELIVERIES: return this.delivered;
      default: return 0;
    }
  }

  write(_region: string, offset: number, _size: AccessSize, value: number): void {
    switch (offset) {
      case ApicTimerReg.LVT_TIMER: this.timer.writeLvt(value); break;
      case ApicTimerReg.INITIAL_COUNT: this.timer.writeInitialCount(value); break;
      case ApicTimerReg.DIVIDE_CONFIG: this.timer.writeDivideConfig(value); break;
      // wrmsr of a deadline relative to now, so that fuzzing reaches both past and future deadlines.
      case TSC_DEADLINE_LOW: this.timer.writeTscDeadline(this.timer.tscAt(this.context.now()) + BigInt(value >>> 12) - 8n); break;
      default: break;
    }
  }

  getState(): HarnessState {
    return { model: this.model, version: 1, timer: this.timer.getState(), delivered: this.delivered, lastVector: this.lastVector };
  }

  setState(state: HarnessState): void {
    this.delivered = state.delivered;
    this.lastVector = state.lastVector;
    this.timer.setState(state.timer);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.timer.anomalies();
  }
}
