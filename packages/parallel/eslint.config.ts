import { config } from '@splitvisor/eslint-config';
export default config(import.meta.dirname);
