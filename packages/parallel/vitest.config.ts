export { default } from '@splitvisor/vitest-config';
