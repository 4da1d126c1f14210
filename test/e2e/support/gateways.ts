/**
 * Real nginx (auth_request) and Caddy (forward_auth) in front of an upstream, configured from the shipped
 * templates in osquery-examples/gateway/, each in its own temp dir on a free 127.0.0.1 port, as
 * foreground child processes. Trustgate is reached over HTTPS with the gateway token, trusting its CA.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, requireCommand, startService, type Service } from './processes.js';
import { caddyEnvNames, exampleFile, renderExample } from './templates.js';

export interface TrustgateEndpoint {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The CA that signed Trustgate's certificate (PEM text). */
  caPem: string;
  /** The name in Trustgate's certificate (the dev certificate has localhost). */
  tlsName: string;
  gatewayToken: string;
}

export interface Gateway {
  kind: 'nginx' | 'caddy';
  port: number;
  dir: string;
  service: Service;
  stop(): Promise<void>;
}

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755); // nginx workers run as an unprivileged user when the master is root
  return dir;
}

/** Stops the gateway, then removes its temp dir (configuration, certificates, logs). */
async function stopAndRemove(service: Service, dir: string): Promise<void> {
  await service.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

export type NginxListen =
  /** Plain HTTP; the device serial comes from the X-Device-Serial request header (stands in for mTLS). */
  | { kind: 'header' }
  /** The shipped nginx-listen-mtls.conf: TLS with verified device client certificates (CN = serial). */
  | { kind: 'mtls'; siteCertPem: string; siteKeyPem: string; deviceCaPem: string };

export interface NginxOptions {
  trustgate: TrustgateEndpoint;
  /** The SSO proxy stand-in's base URL (support/sso.ts). */
  sso: string;
  /** host:port of the protected application. */
  upstream: string;
  listen: NginxListen;
  /** Overrides the token nginx sends (to test a refused token). */
  token?: string;
}

export async function startNginx(opts: NginxOptions): Promise<Gateway> {
  const nginx = requireCommand('nginx');
  const dir = tempDir('trustgate-e2e-nginx-');
  const port = await freePort();
  const write = (name: string, text: string, mode = 0o644): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text, { mode });
    return f;
  };
  const caFile = write('trustgate-ca.crt', opts.trustgate.caPem);
  const tokenConf = write(
    'trustgate-token.conf',
    `proxy_set_header Authorization "Bearer ${opts.token ?? opts.trustgate.gatewayToken}";\n`,
    0o600,
  );
  let listenConf: string;
  if (opts.listen.kind === 'header') {
    listenConf = write('listen.conf', `listen 127.0.0.1:${port};\n`);
  } else {
    listenConf = renderExample('nginx-listen-mtls.conf', dir, {
      SITE_LISTEN: `127.0.0.1:${port}`,
      SITE_CERT: write('site.crt', opts.listen.siteCertPem),
      SITE_KEY: write('site.key', opts.listen.siteKeyPem, 0o600),
      DEVICE_CA: write('device-ca.crt', opts.listen.deviceCaPem),
    });
  }
  const url = new URL(opts.trustgate.url);
  const site = renderExample(
    'nginx.conf',
    dir,
    {
      TRUSTGATE_ADDR: url.host,
      TRUSTGATE_TLS_NAME: opts.trustgate.tlsName,
      TRUSTGATE_CA: caFile,
      TRUSTGATE_TOKEN_CONF: tokenConf,
      TRUSTGATE_LISTEN_CONF: listenConf,
      TRUSTGATE_SERIAL_FALLBACK: opts.listen.kind === 'header' ? '$http_x_device_serial' : '',
      SSO_AUTH_URL: `${opts.sso}/oauth2/auth`,
      SSO_SIGNIN_URL: `${opts.sso}/oauth2/start`,
      UPSTREAM_URL: `http://${opts.upstream}`,
    },
    'trustgate.conf',
  );
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    fs.mkdirSync(path.join(dir, 'tmp', t), { recursive: true, mode: 0o755 });
  // The main context an operator's /etc/nginx/nginx.conf provides; the shipped example is included as is.
  const main = write(
    'nginx.conf',
    [
      'worker_processes 1;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${path.join(dir, 'error.log')} info;`,
      'events { worker_connections 256; }',
      'http {',
      `    access_log ${path.join(dir, 'access.log')};`,
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (t) => `    ${t === 'body' ? 'client_body' : t}_temp_path ${path.join(dir, 'tmp', t)};`,
      ),
      `    include ${site};`,
      '}',
      '',
    ].join('\n'),
  );
  const service = await startService(
    'nginx',
    nginx,
    ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', main, '-g', 'daemon off;'],
    { port },
  );
  const errorLog = (): string => {
    try {
      return fs.readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const withLog: Service = { ...service, output: () => `${service.output()}${errorLog()}` };
  return { kind: 'nginx', port, dir, service: withLog, stop: () => stopAndRemove(service, dir) };
}

export interface CaddyOptions {
  trustgate: TrustgateEndpoint;
  /** The SSO proxy stand-in's base URL (support/sso.ts). */
  sso: string;
  upstream: string;
  /**
   * HTTPS sites requiring a device client certificate (the shipped `device_mtls`, as in production): the
   * site's certificate and key, the device CA. Without it the sites are plain HTTP, the serial a header.
   */
  mtls?: { siteCertPem: string; siteKeyPem: string; deviceCaPem: string };
}

/** The site settings of the Caddyfile: device client certificates (`mtls`), or plain HTTP with a header serial. */
function caddySites(dir: string, port: number, mtls: CaddyOptions['mtls']): Record<string, string> {
  if (!mtls) {
    return {
      SITE_SCHEME: 'http://',
      SITE_PORT: `:${port}`,
      TRUSTGATE_SITE_TLS: 'no_device_tls',
      TRUSTGATE_SERIAL_FALLBACK: '{http.request.header.X-Device-Serial}',
    };
  }
  const file = (name: string, pem: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, pem, { mode: 0o600 });
    return f;
  };
  return {
    SITE_SCHEME: 'https://',
    SITE_PORT: `:${port}`,
    SITE_TLS_CERT: file('site.crt', mtls.siteCertPem),
    SITE_TLS_KEY: file('site.key', mtls.siteKeyPem),
    DEVICE_CA: file('device-ca.crt', mtls.deviceCaPem),
  };
}

/** Caddy with the shipped Caddyfile as is, every setting from the environment. */
export async function startCaddy(opts: CaddyOptions): Promise<Gateway> {
  const caddy = requireCommand('caddy');
  const dir = tempDir('trustgate-e2e-caddy-');
  const port = await freePort();
  const caFile = path.join(dir, 'trustgate-ca.crt');
  fs.writeFileSync(caFile, opts.trustgate.caPem);
  const settings: Record<string, string> = {
    TRUSTGATE_URL: opts.trustgate.url,
    TRUSTGATE_TLS_NAME: opts.trustgate.tlsName,
    TRUSTGATE_CA: caFile,
    TRUSTGATE_GATEWAY_TOKEN: opts.trustgate.gatewayToken,
    UPSTREAM: opts.upstream,
    SSO_URL: opts.sso,
    CADDY_ADMIN: 'off',
    CADDY_BIND: '127.0.0.1',
    // the plain-HTTP redirect listener of HTTPS sites: a free port, not 80
    CADDY_HTTP_PORT: String(await freePort()),
    ...caddySites(dir, port, opts.mtls),
  };
  const file = exampleFile('Caddyfile');
  const { required } = caddyEnvNames(fs.readFileSync(file, 'utf8'));
  // what production leaves unset too: the device CA without site TLS, the serial fallback with it
  const unsetInProduction = opts.mtls ? 'TRUSTGATE_SERIAL_FALLBACK' : 'DEVICE_CA';
  const unset = required.filter((n) => !(n in settings) && n !== unsetInProduction);
  if (unset.length) throw new Error(`the Caddyfile needs settings the e2e test does not give: ${unset.join(', ')}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    ...settings,
  };
  const service = await startService('caddy', caddy, ['run', '--config', file, '--adapter', 'caddyfile'], {
    port,
    env,
    cwd: dir,
  });
  return { kind: 'caddy', port, dir, service, stop: () => stopAndRemove(service, dir) };
}
