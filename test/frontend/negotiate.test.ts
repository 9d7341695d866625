import { expect } from 'chai';
import type { FastifyRequest } from 'fastify';
import { prefersHtml } from '../../frontend-server/negotiate';

const wants = (accept?: string) => prefersHtml({ headers: accept === undefined ? {} : { accept } } as FastifyRequest);

describe('content negotiation', () => {
  const cases: Array<[string | undefined, boolean]> = [
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true], // Chromium, Firefox
    [undefined, false], // curl without -H, most scripts
    ['*/*', false],
    ['application/json', false],
    ['application/json, text/html', false],
    ['text/html, application/json', true],
    ['text/html;q=0.5, application/json', false],
    ['application/json;q=0.1, text/html', true],
    ['text/html;q=0', false],
  ];
  for (const [accept, html] of cases) {
    it(`when Accept is ${accept === undefined ? 'absent' : `'${accept}'`}, then ${html ? 'HTML' : 'JSON'}`, () => {
      expect(wants(accept)).to.equal(html);
    });
  }
});
