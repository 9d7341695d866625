import { expect } from 'chai';
import fc from 'fast-check';
import { dollarsToCents, formatCents } from '../../cli/money';

describe('cli money: dollars typed by people to integer cents', () => {
  it('when a price has at most two decimals, then it becomes exact integer cents', () => {
    const cases: [string, number][] = [
      ['12.50', 1250], ['12.5', 1250], ['12', 1200], ['0.29', 29], ['0.07', 7], ['$19.99', 1999], ['0', 0], [' 3.10 ', 310],
      ['10000000', 1_000_000_000],
    ];
    for (const [raw, cents] of cases) expect(dollarsToCents(raw), raw).to.equal(cents);
  });

  it('when a price has more than two decimals or is not a plain amount, then it is rejected', () => {
    for (const raw of ['12.505', '1.234', '-1', '1e3', '', '.5', '12.', 'twelve', '1,50', '10000000.01', 'NaN', '0x10']) {
      expect(dollarsToCents(raw), raw).to.equal(undefined);
    }
  });

  it('when any cent amount is written as dollars, then reading it back gives the same cents', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), (cents) => {
        const text = formatCents(cents);
        return dollarsToCents(text) === cents && dollarsToCents(text.slice(1)) === cents;
      }),
    );
  });
});
