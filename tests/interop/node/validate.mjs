// Validate one asset with c2pa-ts and print its validation statuses as JSON.
//   node validate.mjs ASSET [SIDECAR]
// With SIDECAR (a detached .c2pa manifest store), the store is read from it
// and validated against ASSET; otherwise from the manifest ASSET embeds.
// Prints {"valid": bool, "statuses": [{"code", "success", "url", "explanation"}]}.
import * as fs from 'node:fs/promises';
import { webcrypto } from 'node:crypto';
import { BMFF } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

// c2pa-ts uses the global WebCrypto, which Node 18 (Debian 12's) lacks.
globalThis.crypto ??= webcrypto;

// c2pa-ts 0.9.4 opens only HEIF brands (heic, mif1), although its BMFF code
// reads any ISO BMFF; widen its public brand set for video (no code patched).
for (const brand of ['isom', 'iso2', 'mp41', 'mp42', 'avc1', 'qt  ', 'M4V ']) BMFF.canReadBrands.add(brand);

const [assetPath, sidecarPath] = process.argv.slice(2);
if (!assetPath) {
    console.error('usage: node validate.mjs ASSET [SIDECAR]');
    process.exit(2);
}

let result;
try {
    const buf = new Uint8Array(await fs.readFile(assetPath));
    if (!BMFF.canRead(buf)) throw new Error('not a BMFF file');
    const asset = new BMFF(buf);
    const jumbf = sidecarPath ? new Uint8Array(await fs.readFile(sidecarPath)) : asset.getManifestJUMBF();
    if (!jumbf) throw new Error('no manifest store');
    result = await ManifestStore.read(SuperBox.fromBuffer(jumbf)).validate(asset);
} catch (e) {
    result = ValidationResult.fromError(e);
}
const statuses = result.statusEntries.map((s) => ({
    code: s.code,
    success: s.success,
    url: s.url ?? null,
    explanation: s.explanation ?? null,
}));
console.log(JSON.stringify({ valid: result.isValid, statuses }));
