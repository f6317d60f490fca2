/**
 * Operation codes of the SCSI commands a CD/DVD-ROM drive takes in its
 * command packets: SPC-3 (Table 10) for the commands of every device type,
 * MMC-5 (the command list of its Table 8 and section 6) for multimedia
 * devices, SFF-8020i for the forms ATAPI drives kept from before MMC.
 */
export const OperationCode = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  INQUIRY: 0x12,
  MODE_SELECT_6: 0x15,
  MODE_SENSE_6: 0x1a,
  START_STOP_UNIT: 0x1b,
  PREVENT_ALLOW_MEDIUM_REMOVAL: 0x1e,
  READ_CAPACITY_10: 0x25,
  READ_10: 0x28,
  READ_TOC_PMA_ATIP: 0x43,
  GET_CONFIGURATION: 0x46,
  GET_EVENT_STATUS_NOTIFICATION: 0x4a,
  READ_DISC_INFORMATION: 0x51,
  MODE_SELECT_10: 0x55,
  MODE_SENSE_10: 0x5a,
  READ_12: 0xa8,
  SET_CD_SPEED: 0xbb,
  MECHANISM_STATUS: 0xbd,
  READ_CD: 0xbe,
} as const;
