/** The isolation check's parsing, on `ip route` output as iproute2 prints it; needs no root. */
import { expect } from 'chai';
import { prefixesOverlap, routeDestinations } from './netns-lab';

describe('guests: netns lab isolation check', () => {
  it('when ip route lists routes of every type, then their destinations are found, default included', () => {
    const output = [
      'default via 10.0.2.2 dev eth0 proto dhcp src 10.0.2.15 metric 100',
      '10.0.2.0/24 dev eth0 proto kernel scope link src 10.0.2.15',
      'local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1',
      'broadcast 192.168.121.255 dev eth0 table local proto kernel scope link src 192.168.121.132',
      'unreachable 192.168.0.0/16',
      '',
    ].join('\n');
    expect(routeDestinations(output)).to.deep.equal(['default', '10.0.2.0/24', '127.0.0.1', '192.168.121.255', '192.168.0.0/16']);
  });

  it('when prefixes share addresses, then they overlap, in either order and at any length', () => {
    expect(prefixesOverlap('192.168.121.0/24', '192.168.121.0/24')).to.equal(true);
    expect(prefixesOverlap('192.168.121.134', '192.168.121.0/24')).to.equal(true);
    expect(prefixesOverlap('192.168.0.0/16', '192.168.121.0/24')).to.equal(true);
    expect(prefixesOverlap('192.168.121.128/25', '192.168.121.0/24')).to.equal(true);
    expect(prefixesOverlap('0.0.0.0/0', '192.168.121.0/24')).to.equal(true);
  });

  it('when prefixes share no address, then they do not overlap', () => {
    expect(prefixesOverlap('192.168.122.0/24', '192.168.121.0/24')).to.equal(false);
    expect(prefixesOverlap('192.168.120.0/24', '192.168.121.0/24')).to.equal(false);
    expect(prefixesOverlap('10.0.0.0/8', '192.168.121.0/24')).to.equal(false);
    expect(prefixesOverlap('192.168.121.0/24', '192.168.56.1')).to.equal(false);
  });
});
