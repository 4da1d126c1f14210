/** loadConfig: defaults, environment vs flags, coercion, and one error that lists every problem. */
import { expect } from 'chai';
import path from 'node:path';
import { CONFIG_FLAGS, SETTING_DOCS, loadConfig } from '../../server/config/load.js';
import { AppError } from '../../server/shared/errors.js';

function problemsOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('config/loadConfig', () => {
  it('fills every setting with its default, paths resolved, the database in the data dir', () => {
    const c = loadConfig({});
    expect(c).to.deep.equal({
      port: 8443,
      host: '0.0.0.0',
      dataDir: path.resolve('./data'),
      packsDir: path.resolve('./packs'),
      certsDir: path.resolve('./certs'),
      publicUrl: 'https://localhost:8443',
      logLevel: 'info',
      dbPath: path.join(path.resolve('./data'), 'trustgate.db'),
      maxBodyBytes: 8 * 1024 * 1024,
      statusLogsPerHost: 100,
      distributedRetentionDays: 30,
      distributedInterval: 60,
      loggerTlsPeriod: 10,
      configRefresh: 300,
      ingestQueueMax: 2000,
      linkTtlSeconds: 900,
      durableFsync: true,
      webhookAllowPrivate: false,
      enrollMode: 'secret',
      enrollUnknown: 'refuse',
      pendingMax: 1000,
      deviceCertIdentity: 'cn',
      deviceCertUriPrefix: 'urn:trustgate:device:',
      // issue #15 (H15b): failed authentications, TLS and connections, audit key and head, carves
      authFailuresPerAddress: 100,
      authFailuresPerCredential: 20,
      authFailureWindowSeconds: 60,
      trustedProxies: [],
      tlsHandshakeTimeoutMs: 10_000,
      maxConnections: 10_000,
      hstsMaxAge: 31_536_000,
      auditKeyFile: path.join(path.resolve('./data'), 'audit.key'),
      auditHeadIntervalSeconds: 3600,
      carveMaxBytes: 256 * 1024 * 1024,
      ssoUserHeader: 'X-Auth-Request-Email',
    });
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('reads TRUSTGATE_* variables as typed values and ignores empty and unknown ones', () => {
    const c = loadConfig({
      TRUSTGATE_PORT: '9000',
      TRUSTGATE_DURABLE_FSYNC: 'false',
      TRUSTGATE_DATA_DIR: '/var/lib/trustgate',
      TRUSTGATE_HELP_TEXT: 'Ask #it-help',
      TRUSTGATE_HOST: '',
      TRUSTGATE_NO_SUCH_SETTING: 'x',
    });
    expect(c).to.include({ port: 9000, durableFsync: false, host: '0.0.0.0', helpText: 'Ask #it-help' });
    expect(c.dbPath).to.equal('/var/lib/trustgate/trustgate.db');
    expect(c.publicUrl).to.equal('https://localhost:9000');
  });

  it('lets a flag win over its environment variable', () => {
    const c = loadConfig(
      { TRUSTGATE_PORT: '9000', TRUSTGATE_LOG_LEVEL: 'debug' },
      { port: '9100', 'public-url': 'https://trust.example.com//' },
    );
    expect(c).to.include({ port: 9100, logLevel: 'debug', publicUrl: 'https://trust.example.com' });
  });

  it('refuses bad settings with one invalid error naming each problem by variable and flag', () => {
    const err = problemsOf(() =>
      loadConfig(
        { TRUSTGATE_PORT: 'eighty', TRUSTGATE_LOG_LEVEL: 'loud', TRUSTGATE_LINK_TTL_SECONDS: '29' },
        { 'public-url': 'ftp://trust.example.com' },
      ),
    );
    expect(err.code).to.equal('invalid');
    for (const name of [
      'TRUSTGATE_PORT / --port',
      'TRUSTGATE_LOG_LEVEL / --log-level',
      'TRUSTGATE_LINK_TTL_SECONDS / --link-ttl-seconds',
      'TRUSTGATE_PUBLIC_URL / --public-url',
    ]) {
      expect(err.message).to.include(name);
    }
    expect(err.message.split('; ')).to.have.length(4);
  });

  it('documents every setting with its variable, flag and default, and knows every flag', () => {
    for (const doc of SETTING_DOCS) {
      expect(doc.env).to.match(/^TRUSTGATE_[A-Z_]+$/);
      expect(doc.flag).to.match(/^--[a-z-]+$/);
      expect(CONFIG_FLAGS.has(doc.flag.slice(2))).to.equal(true);
    }
    expect(SETTING_DOCS.find((d) => d.key === 'port')).to.deep.equal({
      key: 'port',
      env: 'TRUSTGATE_PORT',
      flag: '--port',
      default: 8443,
    });
    expect(CONFIG_FLAGS.size).to.equal(SETTING_DOCS.length);
  });
});
