// The workloads carry their own VGA mode tables, as a driver that sets modes without a BIOS does; the device
// model has its own for the modes it knows. Both come from the IBM VGA Technical Reference's video parameter
// table: they must not drift apart.
import { MODE_03H, MODE_13H, egaPalette } from '@splitvisor/vga';
import { VGA_MODE_03H, VGA_MODE_13H } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';

describe("the guest's VGA mode tables", () => {
  it('are the values the VGA model knows for modes 03h and 13h, and mode 03h loads the EGA palette', () => {
    for (const [guest, model] of [[VGA_MODE_03H, MODE_03H], [VGA_MODE_13H, MODE_13H]] as const) {
      expect({ misc: guest.misc, sequencer: guest.sequencer, crtc: guest.crtc, graphics: guest.graphics, attribute: guest.attribute }).toEqual(model);
    }
    expect(Array.from(VGA_MODE_03H.palette)).toEqual([...egaPalette()]);
  });
});
