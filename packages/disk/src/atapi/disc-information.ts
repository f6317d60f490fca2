/**
 * READ DISC INFORMATION data (MMC-5 6.22, standard disc information, data
 * type 000b) of a pressed disc: not erasable, one complete session holding
 * track 1, disc type 00h (CD-DA or CD-ROM; the field is 00h for a DVD too).
 *
 *   bytes 0–1  disc information length (32: the bytes after it)
 *   byte 2     erasable (4), state of last session (3:2) 11b complete, disc status (1:0) 10b complete
 *   byte 3     first track on the disc       byte 4  sessions (LSB)
 *   byte 5     first track in last session   byte 6  last track in last session (LSB)
 *   byte 8     disc type
 *   bytes 16–19, 20–23  last session lead-in / last possible lead-out start: FFFFFFFFh on a complete disc
 */
const DISC_INFORMATION_BYTES = 34;
const COMPLETE_SESSION_COMPLETE_DISC = (0b11 << 2) | 0b10;

export function discInformation(): Uint8Array {
  const data = new Uint8Array(DISC_INFORMATION_BYTES);
  const view = new DataView(data.buffer);
  view.setUint16(0, DISC_INFORMATION_BYTES - 2);
  data[2] = COMPLETE_SESSION_COMPLETE_DISC;
  data[3] = 1;
  data[4] = 1;
  data[5] = 1;
  data[6] = 1;
  view.setUint32(16, 0xffff_ffff);
  view.setUint32(20, 0xffff_ffff);
  return data;
}
