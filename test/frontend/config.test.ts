import { expect } from 'chai';
import { ConfigError } from '../../common/config';
import { readFrontendConfig } from '../../frontend-server/config';

describe('frontend config: the buy rate limit', () => {
  it('when nothing is set, then 60 buys per minute per client', () => {
    expect(readFrontendConfig({}).buyRateLimit).to.deep.equal({ max: 60, windowMs: 60_000 });
  });

  it('when BUY_RATE_LIMIT_MAX and _WINDOW_MS are set, then they are used', () => {
    const config = readFrontendConfig({ BUY_RATE_LIMIT_MAX: '5', BUY_RATE_LIMIT_WINDOW_MS: '1000' });
    expect(config.buyRateLimit).to.deep.equal({ max: 5, windowMs: 1000 });
  });

  for (const bad of ['0', '-1', 'many', '1.5']) {
    it(`when BUY_RATE_LIMIT_MAX is '${bad}', then a ConfigError names the variable`, () => {
      expect(() => readFrontendConfig({ BUY_RATE_LIMIT_MAX: bad })).to.throw(ConfigError, /BUY_RATE_LIMIT_MAX/);
    });
  }
});
