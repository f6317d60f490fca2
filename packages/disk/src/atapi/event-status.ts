/**
 * GET EVENT STATUS NOTIFICATION data (MMC-5 6.8), polled: the drive supports
 * the Media event class only, whose events (a disc inserted, removed, an
 * eject asked for) it keeps until a poll reports them.
 *
 *   event header  bytes 0–1 event descriptor length (the bytes after them),
 *                 byte 2 NEA (7) and notification class (2:0), byte 3 supported event classes
 *   media event   byte 0 event code (3:0), byte 1 media present (1) and door or tray open (0),
 *                 bytes 2–3 start and end slot (0: no changer)
 */

/** Notification classes: the bit of each in the request and in the supported-classes byte. */
export const NotificationClass = {
  MEDIA: 4,
} as const;

/** Media event codes (MMC-5 Table 150). */
export const MediaEvent = {
  NO_CHANGE: 0,
  EJECT_REQUEST: 1,
  NEW_MEDIA: 2,
  MEDIA_REMOVAL: 3,
} as const;

/** No Event Available: none of the classes asked for is supported. */
const NEA = 0x80;
const SUPPORTED_CLASSES = 1 << NotificationClass.MEDIA;

export type MediaStatus = {
  /** The event to report (and forget), a `MediaEvent`. */
  readonly event: number;
  readonly mediumPresent: boolean;
  readonly trayOpen: boolean;
};

/** The data for a poll of the classes in `requested` (a bit per class). */
export function eventStatusData(requested: number, media: MediaStatus): Uint8Array {
  if ((requested & SUPPORTED_CLASSES) === 0) return Uint8Array.of(0, 2, NEA, SUPPORTED_CLASSES);
  return Uint8Array.of(
    0, 6, NotificationClass.MEDIA, SUPPORTED_CLASSES,
    media.event & 0x0f, (media.mediumPresent ? 0x02 : 0) | (media.trayOpen ? 0x01 : 0), 0, 0,
  );
}
