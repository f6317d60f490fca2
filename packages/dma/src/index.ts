export type { I8237ChannelState, I8237ControllerState, I8237PairState } from './i8237/i8237-pair.ts';
export { I8237Pair } from './i8237/i8237-pair.ts';
export type { DmaTransfer, DmaTransferType } from './i8237/channel.ts';
export { DmaChannel, DmaConfigError } from './i8237/channel.ts';
export {
  CHANNEL_REGISTERS, ChannelBit, Command, ControlRegister, Mode, PAGE_CHANNEL, PAGE_PORT_BASE, PAGE_PORTS, Status,
} from './i8237/registers.ts';
