/**
 * MECHANISM STATUS data (MMC-5 6.9) of a drive that is not a changer: the
 * 8-byte header and no slot tables.
 *
 *   byte 0  fault (7), changer state (6:5) 0 ready, current slot (4:0) 0
 *   byte 1  mechanism state (7:5) 0 idle, door open (4)
 *   bytes 2–4  current LBA (obsolete, 0)     byte 5  slots available (0)
 *   bytes 6–7  length of the slot tables (0)
 */
const MECHANISM_STATUS_HEADER_BYTES = 8;
const DOOR_OPEN = 0x10;

export function mechanismStatusData(trayOpen: boolean): Uint8Array {
  const data = new Uint8Array(MECHANISM_STATUS_HEADER_BYTES);
  data[1] = trayOpen ? DOOR_OPEN : 0;
  return data;
}
