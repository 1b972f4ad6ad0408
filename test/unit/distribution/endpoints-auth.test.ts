// Registry endpoint choice, challenge parsing and X-Registry-Auth decoding: the small parsers
// pull and push depend on, with the inputs real registries and clients send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { isInsecure, pullEndpoints, pushEndpoint, checkRegistrySettings, loginHost } from '../../../src/distribution/endpoints.ts';
import { parseChallenges, credentials, basicHeader } from '../../../src/distribution/auth.ts';
import { progressBar } from '../../../src/distribution/progress.ts';
import { registryAuth } from '../../../src/api/registry-auth.ts';

const none = { insecureRegistries: [], mirrors: [] };

test('loopback and localhost are insecure by default; listed hosts and CIDRs too', () => {
  assert.equal(isInsecure('127.0.0.1:5000', none), true);
  assert.equal(isInsecure('127.8.9.10', none), true);
  assert.equal(isInsecure('localhost:5000', none), true);
  assert.equal(isInsecure('[::1]:5000', none), true);
  assert.equal(isInsecure('registry.example.com', none), false);
  assert.equal(isInsecure('10.0.0.5:5000', none), false);
  const s = { insecureRegistries: ['10.0.0.0/8', 'reg.local:5000', 'fd00::/8'], mirrors: [] };
  assert.equal(isInsecure('10.0.0.5:5000', s), true);
  assert.equal(isInsecure('11.0.0.5:5000', s), false);
  assert.equal(isInsecure('reg.local:5000', s), true);
  assert.equal(isInsecure('reg.local:5001', s), false);
  assert.equal(isInsecure('[fd12::1]:443', s), true);
});

test('Docker Hub names go to the mirrors first, pushes never do', () => {
  const s = { insecureRegistries: [], mirrors: ['http://127.0.0.1:5001', 'https://mirror.example'] };
  assert.deepEqual(pullEndpoints('docker.io', s).map((e) => [e.host, e.insecure, e.mirror]), [
    ['127.0.0.1:5001', true, true], ['mirror.example', false, true], ['registry-1.docker.io', false, false],
  ]);
  assert.deepEqual(pullEndpoints('quay.io', s), [{ host: 'quay.io', insecure: false, mirror: false }]);
  assert.equal(pushEndpoint('docker.io', s).host, 'registry-1.docker.io');
  assert.equal(loginHost('https://index.docker.io/v1/'), 'registry-1.docker.io');
  assert.equal(loginHost('127.0.0.1:5000'), '127.0.0.1:5000');
});

test('bad registry settings are refused with dockerd-like words', () => {
  assert.throws(() => checkRegistrySettings({ insecureRegistries: [], mirrors: ['ftp://x'] }), /unsupported scheme/);
  assert.throws(() => checkRegistrySettings({ insecureRegistries: [], mirrors: ['http://x/path'] }), /path/);
  assert.throws(() => checkRegistrySettings({ insecureRegistries: ['http://x'], mirrors: [] }), /should not contain/);
  assert.throws(() => checkRegistrySettings({ insecureRegistries: ['10.0.0.0/99'], mirrors: [] }), /not a valid CIDR/);
  checkRegistrySettings({ insecureRegistries: ['10.0.0.0/8', 'host:5000'], mirrors: ['https://m.example/'] });
});

test('WWW-Authenticate: Bearer with quoted params (commas inside quotes), Basic, and neither', () => {
  const b = parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"');
  assert.deepEqual(b, { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } });
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.equal(parseChallenges('Negotiate abc'), null);
  assert.equal(parseChallenges('Basic realm="x", Bearer realm="y"')?.scheme, 'bearer');
});

test('credentials from username/password or the auth field', () => {
  assert.deepEqual(credentials({ username: 'u', password: 'p' }), { username: 'u', password: 'p' });
  assert.deepEqual(credentials({ auth: Buffer.from('u:p:w').toString('base64') }), { username: 'u', password: 'p:w' });
  assert.equal(basicHeader({ username: 'u', password: 'p' }), `Basic ${Buffer.from('u:p').toString('base64')}`);
});

test('X-Registry-Auth: base64url, standard base64, unpadded; garbage and {} are anonymous', () => {
  const req = (v?: string): IncomingMessage => ({ headers: v === undefined ? {} : { 'x-registry-auth': v } }) as IncomingMessage;
  const json = JSON.stringify({ username: 'ü?>', password: 'p~~~', serveraddress: 'r:5000' });
  const url = Buffer.from(json).toString('base64url');
  const std = Buffer.from(json).toString('base64');
  for (const v of [url, std, std.replace(/=+$/, '')]) assert.deepEqual(registryAuth(req(v)), { username: 'ü?>', password: 'p~~~', serveraddress: 'r:5000', auth: undefined, email: undefined, identitytoken: undefined, registrytoken: undefined });
  assert.equal(registryAuth(req('e30=')), undefined);
  assert.equal(registryAuth(req('%%%')), undefined);
  assert.equal(registryAuth(req()), undefined);
});

test('progress bar text for old clients', () => {
  assert.equal(progressBar(0, 100), `[${' '.repeat(50)}]  0B/100B`);
  assert.match(progressBar(500_000, 1_000_000), /^\[={24}> {25}\]  500kB\/1MB$/);
});
