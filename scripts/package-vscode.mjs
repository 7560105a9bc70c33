#!/usr/bin/env node
// Builds the VS Code extension for the `trr` debugger type (vscode/) into a
// .vsix: a zip with extension.vsixmanifest, [Content_Types].xml and the
// extension's files under extension/, as `vsce package` lays it out (the
// manifest has the same elements and properties as vsce 3's). Nothing
// is downloaded; the zip is written with fflate (a dependency of trr).
//
//   node scripts/package-vscode.mjs [-o OUT.vsix]     (default: build/trr-debug-VERSION.vsix)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync, strToU8 } from 'fflate';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'vscode');
const FILES = ['package.json', 'extension.js', 'README.md'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function buildVsix(out) {
  const pkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'));
  for (const field of ['name', 'publisher', 'version', 'engines']) {
    if (!pkg[field]) throw new Error(`vscode/package.json has no "${field}"`);
  }
  const manifest = `<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011" xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">
  <Metadata>
    <Identity Language="en-US" Id="${esc(pkg.name)}" Version="${esc(pkg.version)}" Publisher="${esc(pkg.publisher)}" />
    <DisplayName>${esc(pkg.displayName ?? pkg.name)}</DisplayName>
    <Description xml:space="preserve">${esc(pkg.description ?? '')}</Description>
    <Tags>debuggers,trr,time-travel,reverse-debugging,gdb</Tags>
    <Categories>${esc((pkg.categories ?? []).join(','))}</Categories>
    <GalleryFlags>Public</GalleryFlags>
    <Properties>
      <Property Id="Microsoft.VisualStudio.Code.Engine" Value="${esc(pkg.engines.vscode)}" />
      <Property Id="Microsoft.VisualStudio.Code.ExtensionDependencies" Value="" />
      <Property Id="Microsoft.VisualStudio.Code.ExtensionPack" Value="" />
      <Property Id="Microsoft.VisualStudio.Code.ExtensionKind" Value="workspace" />
      <Property Id="Microsoft.VisualStudio.Code.LocalizedLanguages" Value="" />
      <Property Id="Microsoft.VisualStudio.Code.EnabledApiProposals" Value="" />
      <Property Id="Microsoft.VisualStudio.Code.ExecutesCode" Value="true" />
      <Property Id="Microsoft.VisualStudio.Services.GitHubFlavoredMarkdown" Value="true" />
      <Property Id="Microsoft.VisualStudio.Services.Content.Pricing" Value="Free" />
    </Properties>
  </Metadata>
  <Installation>
    <InstallationTarget Id="Microsoft.VisualStudio.Code" />
  </Installation>
  <Dependencies />
  <Assets>
    <Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true" />
    <Asset Type="Microsoft.VisualStudio.Services.Content.Details" Path="extension/readme.md" Addressable="true" />
  </Assets>
</PackageManifest>
`;
  const contentTypes = `<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension=".json" ContentType="application/json" />
  <Default Extension=".js" ContentType="application/javascript" />
  <Default Extension=".md" ContentType="text/markdown" />
  <Default Extension=".vsixmanifest" ContentType="text/xml" />
</Types>
`;
  const entries = {
    'extension.vsixmanifest': strToU8(manifest),
    '[Content_Types].xml': strToU8(contentTypes),
  };
  // Named as `vsce package` names them (it lower-cases the readme).
  for (const f of FILES) entries[`extension/${f === 'README.md' ? 'readme.md' : f}`] = new Uint8Array(readFileSync(join(src, f)));
  // Fixed times, so that the same sources give the same bytes.
  const zip = zipSync(entries, { level: 9, mtime: new Date('2026-01-01T00:00:00Z') });
  const target = out ?? join(root, 'build', `${pkg.name}-${pkg.version}.vsix`);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, zip);
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('-o');
  try {
    const out = buildVsix(i >= 0 ? resolve(process.argv[i + 1] ?? '') : undefined);
    console.error(`wrote ${out}`);
  } catch (e) {
    console.error(`package-vscode: ${e.message}`);
    process.exit(1);
  }
}
