/**
 * Trustgate for e2e tests: the real server (test/support/server.ts) with devices that report the shipped
 * baseline (test/gateway/baseline.ts) on the real clock. Reusable by other e2e suites.
 */
import { startTestServer, type TestServer, type TestServerOptions } from '../../support/server.js';
import { enrollDevice, type Device, type DevicePlatform } from '../../gateway/baseline.js';
import type { TrustgateEndpoint } from './gateways.js';

export interface E2eTrustgate {
  ts: TestServer;
  endpoint: TrustgateEndpoint;
  /** Enrolls a device and reports the baseline now: every applicable check passes except `failing`. */
  device(platform: DevicePlatform, serial: string, failing?: string[]): Promise<Device>;
  stop(): Promise<void>;
}

export async function startTrustgate(opts: TestServerOptions = {}): Promise<E2eTrustgate> {
  const ts = await startTestServer(opts);
  return {
    ts,
    endpoint: { url: ts.url, caPem: ts.caPem, tlsName: 'localhost', gatewayToken: ts.gatewayToken },
    async device(platform, serial, failing = []) {
      const d = await enrollDevice(ts.client, ts.enrollSecret, platform, serial);
      await d.report({ failing, unixTime: (opts.clock?.now() ?? Date.now()) / 1000 });
      return d;
    },
    stop: () => ts.stop(),
  };
}
