export type { AcpiPmTimerConfig, AcpiPmTimerState } from './acpi-pm/acpi-pm-timer.ts';
export { AcpiPmTimer } from './acpi-pm/acpi-pm-timer.ts';
export { PM1_EN, PM1_STS, PM_TIMER_HZ, Pm1En, Pm1Sts } from './acpi-pm/registers.ts';
export type { HpetConfig, HpetState, HpetTimerState } from './hpet/hpet.ts';
export { Hpet, LEGACY_IRQ0, LEGACY_IRQ8, LEGACY_ROUTE } from './hpet/hpet.ts';
export { GenConf, HPET_HZ, HpetReg, TnConf } from './hpet/registers.ts';
