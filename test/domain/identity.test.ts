import { expect } from 'chai';
import { canonicalPerson, presentValue } from '../../server/domain/identity.js';

describe('domain/identity', () => {
  it('treats empty values and unfilled proxy placeholders as absent', () => {
    expect(presentValue(undefined)).to.equal(null);
    expect(presentValue('  ')).to.equal(null);
    expect(presentValue('-')).to.equal(null);
    expect(presentValue('{http.request.tls.client.fingerprint}')).to.equal(null);
    expect(presentValue('{http.reverse_proxy.header.X-Auth-Request-Email}')).to.equal(null);
    expect(presentValue('$ssl_client_fingerprint')).to.equal(null);
    expect(presentValue(' C02ABC ')).to.equal('C02ABC');
  });

  it('canonicalizes a person to the lower-cased e-mail address and refuses anything else', () => {
    expect(canonicalPerson(' Alice@Example.COM ')).to.equal('alice@example.com');
    expect(canonicalPerson('alice')).to.equal(null);
    expect(canonicalPerson('alice@example.com, bob@example.com')).to.equal(null);
    expect(canonicalPerson(`${'a'.repeat(300)}@example.com`)).to.equal(null);
    expect(canonicalPerson('{http.reverse_proxy.header.X-Auth-Request-Email}')).to.equal(null);
  });
});
