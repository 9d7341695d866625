import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../common/config';
import { parsePostgresUrl } from '../../common/postgres-url';
import { readCatalogConfig } from '../../catalog-server/config';
import { readOrderConfig } from '../../order-server/config';
import { tempDir } from '../helpers/stack';

describe('config: DATABASE_URL selects PostgreSQL', () => {
  it('when DATABASE_URL is unset or empty, then the service stays on SQLite at DB_PATH', () => {
    expect(readCatalogConfig({}).databaseUrl).to.equal(undefined);
    expect(readOrderConfig({ DATABASE_URL: ' ', DB_PATH: '/var/lib/bazar/orders.db' })).to.include({
      databaseUrl: undefined,
      dbPath: '/var/lib/bazar/orders.db',
    });
  });

  it('when it is a libpq multi-host URL, then it is kept as given and reads as hosts, database and target', () => {
    const url = 'postgresql://bazar:p%40ss@db1:5433,[::1],db3/orders?target_session_attrs=read-write&sslmode=require';
    expect(readOrderConfig({ DATABASE_URL: url }).databaseUrl).to.equal(url);
    expect(parsePostgresUrl(url)).to.deep.equal({
      hosts: [
        { host: 'db1', port: 5433 },
        { host: '::1', port: 5432 },
        { host: 'db3', port: 5432 },
      ],
      database: 'orders',
      user: 'bazar',
      password: 'p@ss',
      targetSessionAttrs: 'read-write',
      sslmode: 'require',
    });
  });

  const refused: Array<[string, string, RegExp]> = [
    ['another scheme', 'mysql://bazar:secret-pw@db/catalog', /must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['no database name', 'postgres://bazar:secret-pw@db:5432/', /with a host and a database name/],
    ['a port out of range', 'postgres://bazar:secret-pw@db1:5432,db2:99999/catalog', /bad host 'db2:99999'/],
    ['an empty host in the list', 'postgres://bazar:secret-pw@db1,,db2/catalog', /bad host ''/],
    ['a target that cannot write', 'postgres://bazar:secret-pw@db/catalog?target_session_attrs=standby', /target_session_attrs=standby/],
    ['a password with an unescaped slash', 'postgres://bazar:secret-pw/x@db/catalog', /must be a postgres/],
    ['an unknown parameter', 'postgres://bazar:secret-pw@db/catalog?connect_timeout=3', /parameter 'connect_timeout'/],
  ];
  for (const [what, url, message] of refused) {
    it(`when DATABASE_URL has ${what}, then a ConfigError names the variable and hides the password`, () => {
      let error: unknown;
      try {
        readCatalogConfig({ DATABASE_URL: url });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.match(/^DATABASE_URL /).and.match(message);
      expect((error as Error).message).not.to.include('secret-pw');
    });
  }

  describe('DATABASE_PASSWORD_FILE', () => {
    const url = 'postgres://bazar@10.0.0.41:5432,10.0.0.42:5432/catalog?target_session_attrs=read-write';
    let tmp: ReturnType<typeof tempDir>;
    let file: string;
    beforeEach(() => {
      tmp = tempDir('bazar-db-password-');
      file = join(tmp.dir, 'db-password');
    });
    afterEach(() => tmp.remove());

    it('when it names a file, then its contents become the password of the URL\'s user, escaped, hosts and target kept', () => {
      writeFileSync(file, 'pa:ss/w@rd-0123456789\n');
      const config = readCatalogConfig({ DATABASE_URL: url, DATABASE_PASSWORD_FILE: file });
      expect(parsePostgresUrl(config.databaseUrl!)).to.deep.equal({
        ...parsePostgresUrl(url),
        password: 'pa:ss/w@rd-0123456789',
      });
    });

    const refused: Array<[string, Record<string, string>, RegExp]> = [
      ['the URL has a password too', { DATABASE_URL: 'postgres://bazar:secret-pw@db/catalog' }, /has a password and DATABASE_PASSWORD_FILE is set/],
      ['the URL names no user', { DATABASE_URL: 'postgres://db/catalog' }, /names no user/],
      ['the file is missing', { DATABASE_URL: url, DATABASE_PASSWORD_FILE: '/nonexistent/db-password' }, /DATABASE_PASSWORD_FILE \/nonexistent\/db-password cannot be read \(ENOENT\)/],
    ];
    for (const [what, env, message] of refused) {
      it(`when ${what}, then a ConfigError says so without the password`, () => {
        writeFileSync(file, 'secret-pw\n');
        expect(() => readOrderConfig({ DATABASE_PASSWORD_FILE: file, ...env })).to.throw(ConfigError, message).with.property('message').not.include('secret-pw');
      });
    }

    it('when the file is empty, then a ConfigError names it', () => {
      writeFileSync(file, '\n');
      expect(() => readOrderConfig({ DATABASE_URL: url, DATABASE_PASSWORD_FILE: file })).to.throw(ConfigError, /DATABASE_PASSWORD_FILE .* is empty/);
    });

    it('when DATABASE_URL is unset, then the file is not read (SQLite)', () => {
      expect(readOrderConfig({ DATABASE_PASSWORD_FILE: '/nonexistent/db-password' }).databaseUrl).to.equal(undefined);
    });
  });
});
