// The suites every device runs: state round trip and ≥ 10^5 random register operations — with DMA descriptors
// a guest could leave in RAM, run through the address register, beside anything the ports could be sent.
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { inertContext, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { FwCfgState } from '../src/index.ts';
import { DmaControl, E820Type, FwCfg, FwCfgKey, qemuPcItems } from '../src/index.ts';

const CONFIG = qemuPcItems({ ramBytes: 1 << 20, cpus: 4, e820: [{ address: 0, length: 1 << 20, type: E820Type.RAM }], bootOrder: ['/isa/fdc@03f0/floppy@0'], noGraphic: false, irq0Override: true });

/** Where the guest's descriptor sits, and the buffer it names. */
const DESCRIPTOR = 0x1000;
const BUFFER = 0x2000;

/**
 * fw_cfg plus a `guest` region standing for the guest's own RAM writes: a write there lays a descriptor at
 * DESCRIPTOR (control from the value's low 5 bits, a key from its next 6, a length from its top byte, the buffer at
 * BUFFER) and writes its address to the DMA register, as SeaBIOS's qemu_cfg_dma_transfer does.
 */
class GuestDriven implements Device<FwCfgState> {
  readonly model = 'fw-cfg' as const;
  readonly regions: readonly IoRegion[];
  readonly fwCfg: FwCfg;
  private readonly context: DeviceContext;

  constructor(context: DeviceContext) {
    this.context = context;
    this.fwCfg = new FwCfg(context, CONFIG);
    this.regions = [...this.fwCfg.regions, { name: 'guest', space: 'port', length: 1, sizes: [4] }];
  }

  read(region: string, offset: number, size: AccessSize): number {
    return region === 'guest' ? 0 : this.fwCfg.read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region !== 'guest') {
      this.fwCfg.write(region, offset, size, value);
      return;
    }
    const access = new Uint8Array(16);
    const view = new DataView(access.buffer);
    view.setUint32(0, (value & 0x1f) | (((value >>> 5) & 0x3f) << 16));
    view.setUint32(4, value >>> 24);
    view.setUint32(12, BUFFER);
    this.context.memory.write(DESCRIPTOR, access);
    this.fwCfg.write('dma-address', 4, 4, new DataView(Uint32Array.of(DESCRIPTOR).buffer).getUint32(0, false));
  }

  getState(): FwCfgState {
    return this.fwCfg.getState();
  }

  setState(state: FwCfgState): void {
    this.fwCfg.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.fwCfg.anomalies();
  }
}

const select = (key: number): Op => ({ kind: 'write', region: 'selector-data', offset: 0, size: 2, value: key });
const data: Op = { kind: 'read', region: 'selector-data', offset: 1, size: 1 };

/** What firmware does (selects of the items there are, data reads, DMA), and everything else the ports take. */
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...Object.values(FwCfgKey), 0x20, 0x21, 0x22, 0x4000, 0xffff).map(select) },
  { weight: 5, arbitrary: fc.constant(data) },
  { weight: 3, arbitrary: fc.nat().map((value): Op => ({ kind: 'write', region: 'guest', offset: 0, size: 4, value: (value | (DmaControl.SELECT * (value & 1))) >>> 0 })) },
  { weight: 2, arbitrary: registerOps(new GuestDriven(inertContext()).regions) },
);

function invariant(device: GuestDriven, _context: TestContext): void {
  const { selector, offset, dmaAddressHigh } = device.getState();
  const item = device.fwCfg.itemAt(selector);
  if (offset > (item?.length ?? 0)) throw new Error(`offset ${offset} past item ${selector.toString(16)}h of ${item?.length ?? 0} bytes`);
  if (selector !== (selector & 0xffff) || dmaAddressHigh !== dmaAddressHigh >>> 0) throw new Error('a register wider than it is');
}

describe('fw-cfg conformance', () => {
  const subject = { create: (context: TestContext) => new GuestDriven(context), op, irqOutputs: [] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, invariant);
});
