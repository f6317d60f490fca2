/**
 * Media the board holds in memory — a blank disk or diskette a workload
 * asked for — are part of the machine: what the guest wrote to them is in
 * no file, so a snapshot carries their bytes (the pages written), beside
 * their device's state, under `<device>-media`. Media in files are the
 * host's and stay in their files.
 */
import type { DeviceState, ImagePages, StatefulDevice } from '@splitvisor/abi';
import { expectState, layOutPages, pagesProblem, writtenPages } from '@splitvisor/abi';

/** The name a device's in-memory medium has in its domain. */
export const mediaName = (device: string): string => `${device}-media`;

type MediaState = { readonly model: 'memory-media'; readonly version: 1; readonly bytes: number; readonly pages: ImagePages };

/** `image`'s bytes as state named for `device`'s medium. */
export function memoryMedia(device: string, image: Uint8Array): StatefulDevice {
  return {
    name: mediaName(device),
    getState: (): MediaState => ({ model: 'memory-media', version: 1, bytes: image.length, pages: writtenPages(image) }),
    setState: (state: DeviceState) => {
      expectState(state, 'memory-media', 1);
      const { bytes, pages } = state as MediaState;
      if (bytes !== image.length) throw new RangeError(`the ${device}'s medium is ${image.length} bytes, the state's ${bytes}`);
      const problem = pagesProblem(pages, bytes);
      if (problem !== undefined) throw new RangeError(`the ${device}'s medium: ${problem}`);
      layOutPages(pages, image);
    },
  };
}
