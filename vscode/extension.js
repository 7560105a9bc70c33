// The trr debugger type: VS Code starts the debug adapter `trr dap` (stdio),
// with the trr named by the launch configuration's trrPath (or the setting
// of the same name in the environment, TRR_PATH, or trr on PATH).
'use strict';
const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('trr', {
      createDebugAdapterDescriptor(session) {
        const trr = session.configuration.trrPath || process.env.TRR_PATH || 'trr';
        return new vscode.DebugAdapterExecutable(trr, ['dap']);
      },
    }),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
