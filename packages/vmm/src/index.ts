export type { BoardRegion, BoardSlot } from './board.ts';
export { IRQCHIP_PARTS, PC_BOARD } from './board.ts';
export type { IrqchipTopology } from './irqchip-topology.ts';
export type { DeviceWindow, VmMode, VmOptions } from './vm.ts';
export { Vm, VmError } from './vm.ts';
export type { BoardOptions } from './devices.ts';
export type { Typing } from './typist.ts';
export type { DeviceFactory, DeviceRegistry, FactoryInput } from './device-factories.ts';
export { PC_DEVICES } from './device-factories.ts';
