export type { LapicTickOptions } from './lapic-tick.ts';
export { APIC_DIVISOR, GUEST_TSC_HZ, LAPIC_BUS_HZ, LOCAL_TIMER_VECTOR, SPURIOUS_APIC_VECTOR, lapicTick } from './lapic-tick.ts';
export type { PitTickOptions } from './pit-tick.ts';
export { TIMER_VECTOR, pitTick } from './pit-tick.ts';
export type { PmTimerRead, PmTimerReadOptions } from './pm-timer-read.ts';
export {
  ACPI_PM_MASK, PM_TIMER_PORT, RECENT_PM_TIMER_VALUES, pmTimerDelta, pmTimerForward, pmTimerMonotonic, pmTimerRead,
} from './pm-timer-read.ts';
export type {
  HostTyping, ParameterValue, Workload, WorkloadBoard, WorkloadDefinition, WorkloadParameter, WorkloadParameters,
} from './workload.ts';
export { WorkloadError, numberParameter, resolveParameters, stringParameter } from './workload.ts';
export { WORKLOAD_ALIASES, WORKLOAD_DEFINITIONS, createWorkload, workloadDefinition } from './catalog.ts';
export type { VmexitTest } from './vmexit.ts';
export { IPI_TEST_VECTOR, IPI_VECTOR, SMP_VMEXIT_TESTS, TSC_DEADLINE_TIMER_VECTOR, VMEXIT, VMEXIT_TESTS, vmexit } from './vmexit.ts';
export type { Clocksource, ClocksourceRead, ClocksourceReadOptions } from './clocksource-read.ts';
export { CLOCKSOURCES, CLOCKSOURCE_READ, clocksourceRead } from './clocksource-read.ts';
export type { LinuxIdleHpetOptions } from './linux-idle-hpet.ts';
export { LINUX_IDLE_HPET, linuxIdleHpet } from './linux-idle-hpet.ts';
export type { GuestRoutine, JiffiesClock, LegacyPic } from './linux-8259.ts';
export { IDLE_HZ, PIC_MASTER_VECTOR, PIC_SLAVE_VECTOR, jiffiesClock, legacyPic, legacyVector } from './linux-8259.ts';
export type { RtcRead, RtcReadOptions, RtcTime } from './rtc-read.ts';
export { RTC_READ, RtcRegister, rtcRead } from './rtc-read.ts';
export type { RtcPeriodic, RtcPeriodicOptions } from './rtc-periodic.ts';
export { RTC_IRQ, RTC_PERIODIC, RTC_PERIODIC_RATES, RTC_VECTOR, rtcPeriodic, rtcRateSelect } from './rtc-periodic.ts';
export type { SerialConsole, SerialConsoleOptions } from './serial-console.ts';
export { SERIAL_CONSOLE, SERIAL_CONSOLE_MODES, SERIAL_IRQ, SERIAL_VECTOR, consoleLine, serialConsole } from './serial-console.ts';
export type { KeyboardTyping, KeyboardTypingOptions } from './keyboard-typing.ts';
export { KEYBOARD_IRQ, KEYBOARD_TYPING, KEYBOARD_VECTOR, Set1Decoder, TYPING_START_NS, keyboardTyping } from './keyboard-typing.ts';
export type { VgaTextConsole, VgaTextConsoleOptions } from './vga-text-console.ts';
export { VGACON_COLUMNS, VGACON_ROWS, VGA_TEXT_CONSOLE, VGA_VRAM_BASE, VGA_VRAM_SIZE, vgaTextConsole, vgaconLine } from './vga-text-console.ts';
export type { VgaMode13hFill, VgaMode13hFillOptions } from './vga-mode13h-fill.ts';
export { MODE_13H_HEIGHT, MODE_13H_WIDTH, VGA_MODE13H_FILL, mode13hPixel, vgaMode13hFill } from './vga-mode13h-fill.ts';
export type { VgaModeTable } from './vga-modes.ts';
export { VGA_MODE_03H, VGA_MODE_13H, setVgaMode } from './vga-modes.ts';
export type { LapicCalibration, LapicCalibrationOptions } from './lapic-calibration.ts';
export { LAPIC_CALIBRATION, lapicCalibration } from './lapic-calibration.ts';
export type { MixComponent, WorkloadMix } from './mixes.ts';
export { WORKLOAD_MIXES, workloadMix } from './mixes.ts';
export type { AtaFlush, AtaFlushOptions } from './ata-flush.ts';
export { ATA_FLUSH, ataFlush } from './ata-flush.ts';
export type { AtaPioRead, AtaPioReadOptions } from './ata-pio-read.ts';
export { ATA_PIO_READ, ataPioRead } from './ata-pio-read.ts';
export type { AtaPioWrite, AtaPioWriteOptions } from './ata-pio-write.ts';
export { ATA_PIO_WRITE, ataPioWrite, ataWritePattern, fillWritePattern } from './ata-pio-write.ts';
export type { FloppyRead, FloppyReadOptions } from './floppy-read.ts';
export { FLOPPY_DMA_BUFFER, FLOPPY_IRQ, FLOPPY_READ, floppyRead } from './floppy-read.ts';
export type { PitCalibration, PitCalibrationOptions, PitCalibrationResult } from './pit-calibration.ts';
export { PIT_CALIBRATION, pitCalibration } from './pit-calibration.ts';
