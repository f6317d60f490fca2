import { createDirectChannel } from '../src/index.ts';
import { channelConformance } from './conformance.ts';
import { peerBehaviour } from './peer-behaviour.ts';

class PeerExit extends Error {
  override readonly name = 'PeerExit';
}

for (const codec of [false, true]) {
  channelConformance({
    name: codec ? 'direct (through the codec)' : 'direct',
    // In one thread the peer cannot stop answering; timeouts are a worker matter.
    peerCanHang: false,
    encodes: codec,
    open() {
      const [end, peer] = createDirectChannel({ names: ['kernel', 'devhost'], codec });
      peer.setHandler(peerBehaviour(peer, {
        die: (code) => { throw new PeerExit(`exited with code ${code}`); },
        hang: () => { throw new Error('a direct peer cannot hang'); },
        sleep: () => { throw new Error('a direct peer cannot sleep'); },
      }));
      return {
        end,
        close: () => {
          end.close();
          return Promise.resolve();
        },
      };
    },
  });
}
