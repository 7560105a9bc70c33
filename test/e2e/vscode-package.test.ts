// The VS Code extension: scripts/package-vscode.mjs builds a .vsix with the
// layout VS Code installs (extension.vsixmanifest, [Content_Types].xml,
// extension/...), whose package.json contributes the `trr` debugger type and
// whose extension.js starts `TRRPATH dap` as the debug adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { repoRoot, withOutputDir } from '../support/harness.js';

test('vscode: the .vsix has the layout and manifest VS Code installs, and its extension starts `trr dap`', async () => {
  await withOutputDir('vscode-package', (dir) => {
    const out = join(dir, 'trr.vsix');
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package-vscode.mjs'), '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = unzipSync(new Uint8Array(readFileSync(out)));
    assert.deepEqual(Object.keys(files).sort(), ['[Content_Types].xml', 'extension.vsixmanifest', 'extension/extension.js', 'extension/package.json', 'extension/readme.md']);
    const pkg = JSON.parse(strFromU8(files['extension/package.json']!)) as {
      name: string;
      publisher: string;
      version: string;
      main: string;
      activationEvents: string[];
      contributes: { debuggers: { type: string; configurationAttributes: { launch: { required: string[]; properties: Record<string, unknown> } } }[] };
    };
    const manifest = strFromU8(files['extension.vsixmanifest']!);
    assert.match(manifest, new RegExp(`<Identity Language="en-US" Id="${pkg.name}" Version="${pkg.version}" Publisher="${pkg.publisher}" />`));
    assert.match(manifest, /<Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension\/package.json"/);
    assert.match(manifest, /<InstallationTarget Id="Microsoft.VisualStudio.Code" \/>/);
    assert.match(manifest, /<Property Id="Microsoft.VisualStudio.Code.Engine" Value="\^1\.\d+\.0" \/>/);
    assert.match(manifest, /<Asset Type="Microsoft.VisualStudio.Services.Content.Details" Path="extension\/readme.md"/);
    assert.match(strFromU8(files['[Content_Types].xml']!), /Extension=".json" ContentType="application\/json"/);
    const dbg = pkg.contributes.debuggers.find((d) => d.type === 'trr');
    assert.ok(dbg);
    assert.deepEqual(dbg!.configurationAttributes.launch.required, ['trace']);
    assert.ok('trrPath' in dbg!.configurationAttributes.launch.properties);
    assert.ok(pkg.activationEvents.includes('onDebugResolve:trr'));
    assert.equal(pkg.main, './extension.js');

    // extension.js, loaded with a stand-in for the `vscode` module.
    const registered: Record<string, { createDebugAdapterDescriptor(s: { configuration: Record<string, unknown> }): { command: string; args: string[] } }> = {};
    const vscode = {
      debug: { registerDebugAdapterDescriptorFactory: (type: string, f: (typeof registered)[string]) => ((registered[type] = f), { dispose() {} }) },
      DebugAdapterExecutable: class {
        constructor(
          readonly command: string,
          readonly args: string[],
        ) {}
      },
    };
    const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
    const load = M._load;
    M._load = (req: string, ...rest: unknown[]) => (req === 'vscode' ? vscode : load(req, ...rest));
    try {
      const ext = createRequire(import.meta.url)(join(repoRoot, 'vscode', 'extension.js')) as { activate(c: { subscriptions: unknown[] }): void };
      ext.activate({ subscriptions: [] });
    } finally {
      M._load = load;
    }
    const d = registered.trr!.createDebugAdapterDescriptor({ configuration: { trrPath: '/opt/trr/bin/trr', trace: 'x' } });
    assert.equal(d.command, '/opt/trr/bin/trr');
    assert.deepEqual(d.args, ['dap']);
    // The extension's files are the ones in vscode/.
    assert.equal(strFromU8(files['extension/extension.js']!), readFileSync(join(repoRoot, 'vscode', 'extension.js'), 'utf8'));
  });
});
