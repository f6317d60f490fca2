export type { Nanoseconds } from './time.ts';
export { NEVER, isNanoseconds } from './time.ts';
export { tickTime, ticksAt, ticksAtBig } from './clock-math.ts';
export type { AccessSize, AddressSpace, GuestAccessSize, IoRegion } from './io-region.ts';
export { MSR_BYTES, isAccessSize, isGuestAccessSize, msrAddress } from './io-region.ts';
export type { AccessOutcome } from './io-access.ts';
export { readBytes, writeBytes } from './io-access.ts';
export type { Access, AccessExit } from './access.ts';
export { blankAccess, decodeAccess, readLength } from './access.ts';
export type { BusOutcome, Mapping } from './io-bus.ts';
export { BusConflictError, IoBus } from './io-bus.ts';
export type { DeviceStates, DomainOptions, DomainState, DomainTimers, Place, RegionAt, StatefulDevice } from './device-domain.ts';
export { DOMAIN_STATE, DeviceDomain } from './device-domain.ts';
export type { DeviceContext, DeviceLogger, GuestMemory, Timer } from './device-context.ts';
export { NO_MEMORY, ramMemory } from './device-context.ts';
export { withIrqOutputs } from './device-context.ts';
export type { Device, DeviceFactory, DeviceProgram } from './device.ts';
export { DeviceStateError, expectState } from './device.ts';
export type { DeviceState, PlainValue, StateDecodeResult } from './plain-state.ts';
export { StateEncodeError, decodeState, encodeState, sameBytes } from './plain-state.ts';
export type { AddressRange, CachedRead, CachedReadDescriptor, ProgramDescriptor, CounterDescriptor, CounterHint, CounterView, FastPathDescriptor, FastPathHints, RegionSpan } from './fast-path.ts';
export { counterValueAt } from './fast-path.ts';
export type { FastPathProgram, Instruction, ProgramAccess, ProgramOutcome } from './fast-path-program.ts';
export { MAX_INSTRUCTIONS, MAX_SCRATCH_BYTES, Op, verifyProgram } from './fast-path-program.ts';
export type { Register } from './program-builder.ts';
export { ProgramBuilder, ProgramError, r0, r1, r2, r3, r4, r5, r6, r7 } from './program-builder.ts';
export { UnverifiedProgramError, programRunner } from './program-interpreter.ts';
export type {
  CoalescedIo, CoalescedWrite, Exit, ExitHeader, ExitKind, HltExit, InternalErrorExit, IntrExit, IoExit,
  IoapicEoiExit, IrqWindowOpenExit, MmioExit, MsrExit, ShutdownExit,
} from './exit.ts';
export { InternalSuberror } from './exit.ts';
export type { GuestCpu, GuestExit, GuestRun, ReadOnlyRegion } from './guest-cpu.ts';
export { OP_CYCLES } from './guest-cpu.ts';
export { BUDGET, HLT, IRQ_WINDOW, NO_DATA, SHUTDOWN, WriteBuffers, ioExitRecord, mmioExitRecord, msrExitRecord, runRecord } from './guest-exit-records.ts';
export type {
  DeviceStateReply, ErrorReply, GetDeviceStateRequest, InterruptRequest, IrqLineRequest, MemoryReply, MsiRequest, OkReply, PauseRequest, PlaceDeviceRequest, RemoveDeviceRequest,
  ProgramScratchRequest, ReadMemoryRequest, RegisterCoalescedRangeRequest, RegisterFastPathRequest, Reply, Request, ResumeRequest, RunRequest,
  SetDeviceStateRequest, WriteMemoryRequest,
} from './ioctl.ts';
export { ErrorCode, MAX_MEMORY_BYTES } from './ioctl.ts';
export { ioctlMemory } from './ioctl-memory.ts';
export type { Message, MessageKind } from './message.ts';
export { MessageTag, isExit } from './message.ts';
export type { DecodeError, DecodeResult } from './codec/message-codec.ts';
export { MessageEncoder, badMessageReply, decodeMessage, describeDecodeError, encodeMessage } from './codec/message-codec.ts';
export { EncodeError, copyBytes, u32At } from './codec/wire.ts';
export type { DecodeFailure } from './codec/wire.ts';
export type { Boundary, Domain, TransitionReason, TransitionRecorder } from './transition.ts';
export { DomainDepth, boundaryOf, domainDepth, nullRecorder } from './transition.ts';
export type { PacedTicks, TickPacing } from './tick-pacer.ts';
export { TickPacer } from './tick-pacer.ts';
export type { ImagePages } from './page-image.ts';
export { IMAGE_PAGE_BYTES, layOutPages, pagesProblem, writtenPages } from './page-image.ts';
