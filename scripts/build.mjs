// `npm run build`: compiles src/ to dist/src/ (what `npm start` and a production install run) and
// copies the files beside the sources that are not TypeScript (the dashboard page, protos, the
// pool thread's loader), keeping their paths so `new URL(…, import.meta.url)` finds them.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('src', 'dist/src', { recursive: true, filter: (path) => !path.endsWith('.ts') });
// The gRPC front's .proto files, where src/server/grpc/proto.ts looks for them from dist/src/ too.
cpSync('proto', 'dist/proto', { recursive: true });
