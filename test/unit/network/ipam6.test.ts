import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AddressPool6, bigToIp6, ip6ToBig, parseCidr6 } from '../../../src/network/ipam6.ts';
import { Conflict, InvalidParameter } from '../../../src/errors.ts';

describe('ipam6', () => {
  it('reads and prints addresses as Go does (RFC 5952)', () => {
    for (const [inp, out] of [['2001:db8:0:0:0:0:0:1', '2001:db8::1'], ['2001:DB8::F00D', '2001:db8::f00d'], ['::', '::'], ['::ffff:1.2.3.4', '::ffff:102:304'], ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], ['1:0:0:2:0:0:0:3', '1:0:0:2::3']]) {
      assert.equal(bigToIp6(ip6ToBig(inp!)), out, inp);
    }
    assert.throws(() => ip6ToBig('10.0.0.1'), InvalidParameter);
    assert.throws(() => parseCidr6('2001:db8:zz::/64'), /invalid CIDR address/);
    assert.equal(parseCidr6('2001:db8:b::5/64').base, ip6ToBig('2001:db8:b::'));
  });

  it('hands out the lowest free address past the gateway, as dockerd 20.10', () => {
    const p = new AddressPool6({ subnet: '2001:db8:1::/64' });
    assert.equal(p.gatewayText, '2001:db8:1::1');
    assert.equal(p.allocate(), '2001:db8:1::2');
    assert.equal(p.allocate('2001:db8:1::f00d'), '2001:db8:1::f00d');
    assert.equal(p.allocate(), '2001:db8:1::3');
    p.release('2001:db8:1::2');
    assert.equal(p.allocate(), '2001:db8:1::2');
    assert.throws(() => p.allocate('2001:db8:1::f00d'), Conflict);
    assert.throws(() => p.allocate('2001:db8:9::1'), /does not belong to any of this network's subnets/);
    assert.throws(() => p.allocate('10.0.0.1'), /does not belong/);
  });

  it('takes a range and gateway, skips auxiliary addresses, refuses a gateway outside', () => {
    const p = new AddressPool6({ subnet: '2001:db8:2::/64', ipRange: '2001:db8:2::/96', gateway: '2001:db8:2::ffff', auxiliary: ['2001:db8:2::1'] });
    assert.equal(p.allocate(), '2001:db8:2::2');
    assert.throws(() => new AddressPool6({ subnet: '2001:db8:2::/64', gateway: '2001:db8:3::1' }), /Requested address is out of range/);
    assert.throws(() => new AddressPool6({ subnet: '2001:db8:2::/64', gateway: '2001:db8:2::' }), /Address already in use/);
    assert.throws(() => new AddressPool6({ subnet: '2001:db8:2::/64', ipRange: '2001:db8:4::/96' }), /invalid range/);
    const small = new AddressPool6({ subnet: '2001:db8:9::/126' });
    assert.equal(small.allocate(), '2001:db8:9::2');
    assert.equal(small.allocate(), '2001:db8:9::3');
    assert.throws(() => small.allocate(), /no available IPv6 addresses/);
  });
});
