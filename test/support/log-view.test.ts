import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { chooseLogView, pipeLogView, viewLine, type LogView } from '../../support/log-view';

const record = (fields: object) => JSON.stringify({ level: 30, time: 1_700_000_000_000, pid: 1, hostname: 'h', ...fields });

describe('npm start log view: pretty in a terminal, JSON elsewhere', () => {
  it('when stdout is a terminal, then the view is pretty and shows requests from warn up; a pipe gets the JSON itself', () => {
    expect(chooseLogView({}, true)).to.deep.equal({ colour: true, requestLevel: 40 });
    expect(chooseLogView({}, false)).to.equal(undefined);
    expect(chooseLogView({ NO_COLOR: '1' }, true)).to.deep.equal({ colour: false, requestLevel: 40 });
  });

  it('when LOG_FORMAT or LOG_LEVEL is set, then it decides: json passes through, a level shows every request line', () => {
    expect(chooseLogView({ LOG_FORMAT: 'json' }, true)).to.equal(undefined);
    expect(chooseLogView({ LOG_FORMAT: 'pretty' }, false)).to.deep.equal({ colour: false, requestLevel: 40 });
    expect(chooseLogView({ LOG_LEVEL: 'debug' }, true)).to.deep.equal({ colour: true, requestLevel: 0 });
    expect(() => chooseLogView({ LOG_FORMAT: 'xml' }, true)).to.throw(/LOG_FORMAT must be pretty or json, got 'xml'/);
  });

  it('when lines pass through the view, then request lines below warn are hidden and the rest are one readable line each', async () => {
    const view: LogView = { colour: false, requestLevel: 40 };
    const input = new PassThrough();
    const output = new PassThrough();
    pipeLogView(input, output, view);
    input.end(
      [
        record({ service: 'catalog', msg: 'Server listening at http://127.0.0.1:3001' }),
        record({ service: 'frontend', reqId: 'r1', req: { method: 'GET', url: '/lookup/1' }, msg: 'incoming request' }),
        record({ service: 'frontend', reqId: 'r1', res: { statusCode: 200 }, msg: 'request completed' }),
        record({ level: 40, service: 'order', reqId: 'r2', code: 'upstream_unavailable', msg: 'the catalog did not answer' }),
        '2026-01-01T00:00:00: PM2 log: App [catalog:0] online',
        '{not json',
      ].join('\n') + '\n',
    );
    const text = await new Promise<string>((resolve) => {
      let all = '';
      output.on('data', (chunk) => (all += chunk));
      input.on('close', () => setImmediate(() => resolve(all)));
    });
    const lines = text.trimEnd().split('\n');
    expect(lines).to.have.length(4);
    expect(lines[0]).to.match(/^\[[\d:.]+\] INFO: catalog: Server listening at http:\/\/127\.0\.0\.1:3001$/);
    expect(lines[1]).to.match(/^\[[\d:.]+\] WARN: order: the catalog did not answer \{"reqId":"r2","code":"upstream_unavailable"\}$/);
    expect(lines.slice(2)).to.deep.equal(['2026-01-01T00:00:00: PM2 log: App [catalog:0] online', '{not json']);
    expect(text).not.to.include('request completed').and.not.to.include('incoming request');
  });

  it('when a warning carries an error, then its message is shown on the line; an error keeps its stack', () => {
    const err = { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:3002', stack: 'Error: connect ECONNREFUSED\n    at x' };
    const seen: object[] = [];
    const keep = (r: object) => (seen.push(r), 'pretty\n');
    viewLine(record({ level: 40, service: 'frontend', err, msg: 'upstream call failed' }), { colour: false, requestLevel: 40 }, keep);
    viewLine(record({ level: 50, service: 'frontend', err, msg: 'unhandled error' }), { colour: false, requestLevel: 40 }, keep);
    expect(seen.map((r) => (r as { err: unknown }).err)).to.deep.equal([err.message, err]);
  });

  it('when LOG_LEVEL asked for request lines, then they are shown too', () => {
    const shown = viewLine(record({ service: 'frontend', reqId: 'r1', msg: 'request completed' }), { colour: false, requestLevel: 0 }, () => 'pretty\n');
    expect(shown).to.equal('pretty\n');
    const hidden = viewLine(record({ service: 'frontend', reqId: 'r1', msg: 'request completed' }), { colour: false, requestLevel: 40 }, () => 'pretty\n');
    expect(hidden).to.equal(undefined);
  });
});
