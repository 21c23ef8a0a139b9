// The phone builds cannot be made here (no Android SDK, no Xcode), so their configuration is
// checked as files: the permission texts in French and English, the status page's deep link,
// the icons at every size from one source, and the release lanes' refusal to build for a
// store without a server address.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const shell = join(root, 'mobile', 'src-tauri');
const read = (...p) => readFileSync(join(...p), 'utf8');

/** `name → text` of an Android strings.xml. */
function androidStrings(path) {
  return Object.fromEntries([...read(path).matchAll(/<string name="([^"]+)">([^<]*)<\/string>/g)].map((m) => [m[1], m[2]]));
}

/** `key → text` of an iOS .strings file. */
function iosStrings(path) {
  return Object.fromEntries([...read(path).matchAll(/^"([^"]+)"\s*=\s*"([^"]*)";$/gm)].map((m) => [m[1], m[2]]));
}

test('Android: every permission the manifest asks for has its text in English and French', () => {
  const manifest = read(shell, 'android', 'AndroidManifest.permissions.xml');
  const rationales = [...manifest.matchAll(/<!-- (permission_\w+_rationale)/g)].map((m) => m[1]);
  assert.deepEqual(rationales.sort(), ['permission_camera_rationale', 'permission_location_rationale', 'permission_photos_rationale']);
  for (const permission of ['CAMERA', 'ACCESS_FINE_LOCATION', 'READ_EXTERNAL_STORAGE']) {
    assert.match(manifest, new RegExp(`android\\.permission\\.${permission}"`));
  }
  const en = androidStrings(join(shell, 'android', 'values', 'strings.xml'));
  const fr = androidStrings(join(shell, 'android', 'values-fr', 'strings.xml'));
  assert.deepEqual(Object.keys(fr).sort(), Object.keys(en).sort());
  for (const key of rationales) {
    assert.ok(en[key] && fr[key], key);
    assert.notEqual(en[key], fr[key], `${key} is translated`);
  }
});

test('iOS: camera, location and photos are explained in English and French', () => {
  const keys = ['NSCameraUsageDescription', 'NSLocationWhenInUseUsageDescription', 'NSPhotoLibraryUsageDescription'];
  const en = iosStrings(join(shell, 'ios', 'en.lproj', 'InfoPlist.strings'));
  const fr = iosStrings(join(shell, 'ios', 'fr.lproj', 'InfoPlist.strings'));
  const plist = read(shell, 'Info.plist');
  for (const key of keys) {
    assert.ok(en[key] && fr[key], key);
    assert.notEqual(en[key], fr[key], `${key} is translated`);
    // The development region's text (French) is the plist's own.
    assert.ok(plist.includes(`<key>${key}</key>\n  <string>${fr[key]}</string>`), `${key} in Info.plist`);
  }
  assert.deepEqual(Object.keys(en).sort(), keys);
  assert.deepEqual(Object.keys(fr).sort(), keys);
});

test('the status page opens in the app: /suivi/ on the build\'s server, on both systems', () => {
  const router = read(root, 'server', 'src', 'http', 'mod.rs');
  assert.match(router, /"\/suivi\/\{number\}"/, 'the server serves /suivi/{number}');
  const android = read(shell, 'android', 'AndroidManifest.deeplink.xml');
  assert.match(android, /android:autoVerify="true"/);
  assert.match(android, /<data android:scheme="https" android:host="\$\{guichetHost\}" android:pathPrefix="\/suivi\/" \/>/);
  const ios = read(shell, 'ios', 'Guichet.entitlements');
  assert.match(ios, /<key>com\.apple\.developer\.associated-domains<\/key>\s*<array>\s*<string>applinks:\$\(GUICHET_SERVER_HOST\)<\/string>/);
  // Both placeholders are filled by the release lanes from GUICHET_SERVER_URL.
  const fastfile = read(root, 'fastlane', 'Fastfile');
  assert.match(fastfile, /ORG_GRADLE_PROJECT_guichetHost/);
  assert.match(fastfile, /ENV\["GUICHET_SERVER_HOST"\]/);
});

/** Width, height and whether the top-left pixel is opaque, from a PNG's own bytes. */
function png(path) {
  const d = readFileSync(path);
  assert.equal(d.subarray(1, 4).toString('latin1'), 'PNG', path);
  const width = d.readUInt32BE(16);
  const height = d.readUInt32BE(20);
  const colorType = d[25];
  const idat = [];
  for (let i = 8; i < d.length;) {
    const n = d.readUInt32BE(i);
    if (d.subarray(i + 4, i + 8).toString('latin1') === 'IDAT') idat.push(d.subarray(i + 8, i + 8 + n));
    i += 12 + n;
  }
  // Whatever the first row's filter, its first pixel is stored as is (nothing left or above).
  const raw = inflateSync(Buffer.concat(idat));
  const opaque = colorType === 2 || (colorType === 6 && raw[4] === 255);
  return { width, height, opaque };
}

test('the icons: every size each system needs, all from one source', () => {
  const sizes = {
    // desktop bundles (tauri.conf.json)
    '32x32.png': 32, '128x128.png': 128, '128x128@2x.png': 256, 'icon.png': 512,
    // Android launcher icons, per density
    'android/mipmap-mdpi/ic_launcher.png': 48, 'android/mipmap-hdpi/ic_launcher.png': 72,
    'android/mipmap-xhdpi/ic_launcher.png': 96, 'android/mipmap-xxhdpi/ic_launcher.png': 144,
    'android/mipmap-xxxhdpi/ic_launcher.png': 192,
    'android/mipmap-mdpi/ic_launcher_round.png': 48, 'android/mipmap-xxxhdpi/ic_launcher_round.png': 192,
    // iOS AppIcon set: iPhone, iPad, and the App Store's 1024
    'ios/AppIcon-20x20@1x.png': 20, 'ios/AppIcon-20x20@2x.png': 40, 'ios/AppIcon-20x20@3x.png': 60,
    'ios/AppIcon-29x29@1x.png': 29, 'ios/AppIcon-29x29@2x.png': 58, 'ios/AppIcon-29x29@3x.png': 87,
    'ios/AppIcon-40x40@1x.png': 40, 'ios/AppIcon-40x40@2x.png': 80, 'ios/AppIcon-40x40@3x.png': 120,
    'ios/AppIcon-60x60@2x.png': 120, 'ios/AppIcon-60x60@3x.png': 180,
    'ios/AppIcon-76x76@1x.png': 76, 'ios/AppIcon-76x76@2x.png': 152, 'ios/AppIcon-83.5x83.5@2x.png': 167,
    'ios/AppIcon-512@2x.png': 1024,
  };
  for (const [file, size] of Object.entries(sizes)) {
    const icon = png(join(shell, 'icons', file));
    assert.deepEqual([icon.width, icon.height], [size, size], file);
    // The App Store refuses icons with transparency.
    if (file.startsWith('ios/')) assert.ok(icon.opaque, `${file} is opaque`);
  }
  for (const file of ['icon.icns', 'icon.ico', 'android/mipmap-anydpi-v26/ic_launcher.xml']) {
    assert.ok(existsSync(join(shell, 'icons', file)), file);
  }
  const source = png(join(root, 'assets', 'icons', 'icon-1024.png'));
  assert.deepEqual([source.width, source.height], [1024, 1024]);
  assert.match(read(shell, 'icons', 'README.md'), /tauri icon assets\/icons\/icon-1024\.png/);
  const conf = JSON.parse(read(shell, 'tauri.conf.json'));
  for (const file of conf.bundle.icon) assert.ok(existsSync(join(shell, file)), file);
});

const ruby = spawnSync('ruby', ['--version']).status === 0;

test('a store build without a server address, or with a local one, is refused', { skip: !ruby && 'no ruby' }, () => {
  const check = (url) => {
    const env = { ...process.env };
    delete env.GUICHET_SERVER_URL;
    if (url !== undefined) env.GUICHET_SERVER_URL = url;
    const r = spawnSync('ruby', ['-e', 'require "./fastlane/release_settings"; begin; puts GuichetRelease.server_url!; rescue GuichetRelease::Missing => e; warn e.message; exit 3; end'], { cwd: root, env, encoding: 'utf8' });
    return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };
  assert.deepEqual(check(undefined), { status: 3, out: '', err: 'GUICHET_SERVER_URL is not set: a store build needs the address of its server (e.g. https://guichet.example.org)' });
  assert.equal(check('  ').status, 3);
  assert.equal(check('http://127.0.0.1:8080').status, 3);
  assert.equal(check('https://localhost').status, 3);
  assert.equal(check('https://127.0.0.1:8443').status, 3);
  assert.deepEqual(check('https://guichet.rennes.example/'), { status: 0, out: 'https://guichet.rennes.example', err: '' });
  // Every lane builds through `tauri`, which asks for the address first; Android also needs
  // its signing key from the environment.
  const fastfile = read(root, 'fastlane', 'Fastfile');
  assert.match(fastfile, /def tauri\(\*args\)\n\s+server = settings! \{ GuichetRelease\.server_url! \}/);
  assert.match(fastfile, /GuichetRelease\.android_keystore_properties!/);
  execFileSync('ruby', ['-c', join(root, 'fastlane', 'Fastfile')]);
  // The Rust build refuses too: a release phone build without GUICHET_SERVER_URL panics in
  // build.rs before compiling.
  const buildRs = read(shell, 'build.rs');
  assert.match(buildRs, /phone && release && server\.trim\(\)\.is_empty\(\)/);
});
