// api/cross-site.ts: moby's CheckForJSON (texts from api/server/httputils and Go's
// mime.ParseMediaType), the fetch-metadata/Origin refusal and the Host check for DNS rebinding.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { checkForJson, checkBrowser, hostAllowed, hostOf, localNames } from '../../../src/api/cross-site.ts';

function req(headers: Record<string, string>, socket: Record<string, unknown> = { remoteAddress: '127.0.0.1' }): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: lower, socket } as unknown as IncomingMessage;
}

const message = (f: () => void): string | undefined => {
  try { f(); return undefined; } catch (e) { return (e as Error).message; }
};

describe('checkForJson (moby httputils.CheckForJSON)', () => {
  const cases: [string, Record<string, string>, string | undefined][] = [
    ['application/json', { 'Content-Type': 'application/json', 'Content-Length': '2' }, undefined],
    ['with a charset', { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': '2' }, undefined],
    ['any case', { 'Content-Type': 'Application/JSON', 'Content-Length': '2' }, undefined],
    ['no type, no body', { 'Content-Length': '0' }, undefined],
    ['no type, no length, not chunked', {}, undefined],
    ['text/plain, no body (the Docker CLI on body-less POSTs)', { 'Content-Type': 'text/plain', 'Content-Length': '0' }, "unsupported Content-Type header (text/plain): must be 'application/json'"],
    ['text/plain', { 'Content-Type': 'text/plain', 'Content-Length': '9' }, "unsupported Content-Type header (text/plain): must be 'application/json'"],
    ['a form', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '9' }, "unsupported Content-Type header (application/x-www-form-urlencoded): must be 'application/json'"],
    ['no type with a body', { 'Content-Length': '9' }, 'malformed Content-Type header (): mime: no media type'],
    ['no type, chunked', { 'Transfer-Encoding': 'chunked' }, 'malformed Content-Type header (): mime: no media type'],
    ['no slash', { 'Content-Type': 'json{', 'Content-Length': '9' }, 'malformed Content-Type header (json{): mime: expected slash after first token'],
    ['nothing after the slash', { 'Content-Type': 'application/', 'Content-Length': '9' }, 'malformed Content-Type header (application/): mime: expected token after slash'],
    ['junk after the subtype', { 'Content-Type': 'application/json x', 'Content-Length': '9' }, 'malformed Content-Type header (application/json x): mime: unexpected content after media subtype'],
  ];
  for (const [name, h, want] of cases) {
    it(name, () => {
      const got = message(() => checkForJson(req(h)));
      assert.equal(got, want);
    });
  }
  it('is a 400', () => {
    try { checkForJson(req({ 'Content-Type': 'text/plain', 'Content-Length': '1' })); assert.fail(); } catch (e) { assert.equal((e as { status: number }).status, 400); }
  });
});

describe('checkBrowser', () => {
  const names = localNames(['berth.example']);
  const status = (f: () => void): number => { try { f(); return 200; } catch (e) { return (e as { status: number }).status; } };
  it('refuses cross-site and same-site fetch metadata on TCP, accepts same-origin and none', () => {
    assert.equal(status(() => checkBrowser(req({ Host: '127.0.0.1:2375', 'Sec-Fetch-Site': 'cross-site' }), names)), 403);
    assert.equal(status(() => checkBrowser(req({ Host: '127.0.0.1:2375', 'Sec-Fetch-Site': 'same-site' }), names)), 403);
    assert.equal(status(() => checkBrowser(req({ Host: '127.0.0.1:2375', 'Sec-Fetch-Site': 'same-origin' }), names)), 200);
    assert.equal(status(() => checkBrowser(req({ Host: '127.0.0.1:2375', 'Sec-Fetch-Site': 'none' }), names)), 200);
  });
  it('without fetch metadata, refuses an Origin of another host, or null', () => {
    assert.equal(status(() => checkBrowser(req({ Host: '127.0.0.1:2375', Origin: 'http://evil.example' }), names)), 403);
    assert.equal(status(() => checkBrowser(req({ Host: '127.0.0.1:2375', Origin: 'null' }), names)), 403);
    assert.equal(status(() => checkBrowser(req({ Host: '127.0.0.1:2375', Origin: 'http://127.0.0.1:2375' }), names)), 200);
    assert.equal(status(() => checkBrowser(req({ Host: '127.0.0.1:2375' }), names)), 200);
  });
  it('checks Host on plain TCP only: not on TLS, not on unix sockets', () => {
    assert.equal(status(() => checkBrowser(req({ Host: 'evil.example:2375' }), names)), 403);
    assert.equal(status(() => checkBrowser(req({ Host: 'evil.example:2376' }, { remoteAddress: '127.0.0.1', encrypted: true }), names)), 200);
    assert.equal(status(() => checkBrowser(req({ Host: 'evil.example' }, {}), names)), 200);
    assert.equal(status(() => checkBrowser(req({ Host: 'evil.example', 'Sec-Fetch-Site': 'cross-site' }, {}), names)), 200, 'a unix socket is out of a browser\'s reach');
  });
});

describe('hostAllowed', () => {
  const names = localNames(['berth.example']);
  for (const h of ['127.0.0.1:2375', '127.0.0.1', '[::1]:2375', '10.1.2.3:2375', 'localhost:2375', 'LOCALHOST', 'api.moby.localhost', 'berth.example:2375', 'berth.example.:2375', undefined]) {
    it(`allows ${h}`, () => assert.ok(hostAllowed(h, names)));
  }
  for (const h of ['evil.example:2375', 'evil.example', '127.0.0.1.evil.example', 'localhost.evil.example', '', ':2375']) {
    it(`refuses ${JSON.stringify(h)}`, () => assert.ok(!hostAllowed(h, names)));
  }
  it('hostOf', () => {
    assert.equal(hostOf('[::1]:2375'), '::1');
    assert.equal(hostOf('Example.COM:80'), 'example.com');
    assert.equal(hostOf('::1'), '::1');
  });
});
