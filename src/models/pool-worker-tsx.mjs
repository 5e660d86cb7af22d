// Running from TypeScript sources, a pool thread loads ./pool-worker.ts through tsx: worker threads
// do not inherit the main thread's module hooks, and `--import tsx` in a thread's execArgv does
// not install the ESM resolver there (measured on Node 20), so the thread registers it itself.
import { register } from 'tsx/esm/api';

register();
const { default: embedBatch } = await import('./pool-worker.ts');
export default embedBatch;
