// Entry of `trr dap` (and of `node dist/src/dap/main.js`): a Debug Adapter
// Protocol session on stdin/stdout. stdout carries only the protocol; trr's
// own diagnostics go to stderr.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DebugSession } from '@vscode/debugadapter';
import { TrrDebugSession } from './adapter.js';

export function runDap(): void {
  DebugSession.run(TrrDebugSession);
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === self) runDap();
