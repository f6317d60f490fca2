// Bench worker: echoes whatever it is sent through postMessage.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (message) => { parentPort.postMessage(message); });
