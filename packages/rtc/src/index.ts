export type { LostTickPolicy, Mc146818Config, Mc146818State } from './mc146818/mc146818.ts';
export { Mc146818 } from './mc146818/mc146818.ts';
export type { AlarmBytes, RtcDateTime, TimeBytes, TimeFormat } from './mc146818/calendar.ts';
export {
  civilFromDays, daysFromCivil, decodeHour, decodeValue, encodeHour, encodeValue, fieldsFromSeconds, isValidBcd, parseTime,
  renderTime, secondsFromFields, secondsToAlarm, weekdayOfDays,
} from './mc146818/calendar.ts';
export {
  TIME_BASE_HZ, UIP_CLOCKS, dividerRunning, nextTapEdge, nextUpdate, periodClocks, periodNs, tapEdgesBetween, updateInProgress,
  updatesBetween,
} from './mc146818/divider.ts';
export { ALARM_DONT_CARE, CMOS_BYTES, HOUR_PM, POWER_ON_A, POWER_ON_B, RegA, RegB, RegC, RegD, RtcReg } from './mc146818/registers.ts';
export type { BootDevice, DiskTranslation, FloppyDriveType, HardDiskGeometry, PcCmosConfig } from './pc-cmos/pc-cmos.ts';
export { CmosByte, pcCmosImage } from './pc-cmos/pc-cmos.ts';
