/**
 * Pure parts of device identity: inventory files (CSV and JSON, aliases, quoting, every bad row by line, all
 * or nothing) and the identity a client certificate names (CN, SAN URI, SAN DNS; ambiguous → none).
 */
import { expect } from 'chai';
import { parseInventory, formatOf } from '../../server/devices/inventory-file.js';
import { identityOf, sanEntries } from '../../server/devices/peer-cert.js';
import { AppError } from '../../server/shared/errors.js';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(AppError);
    expect((e as AppError).code).to.equal('invalid');
    return (e as AppError).message;
  }
  throw new Error('expected a refusal');
}

describe('devices/inventory-file parseInventory', () => {
  it('reads a CSV export by column name (aliases, quotes, extra columns ignored, owners lower-cased)', () => {
    const csv =
      '\ufeffSerial Number,Model,UDID,Owner Email,Asset Tag\n' +
      'C02A,MacBook,UUID-A,Alice@Example.com;bob@example.com,A-1\n' +
      '"C02,B","Mac ""Pro""",,carol@example.com,\n';
    expect(parseInventory(csv, 'csv', 'jamf.csv')).to.deep.equal([
      { serial: 'C02A', hardwareUuid: 'UUID-A', owners: ['alice@example.com', 'bob@example.com'], assetTag: 'A-1' },
      { serial: 'C02,B', hardwareUuid: null, owners: ['carol@example.com'], assetTag: null },
    ]);
  });

  it('names every bad row by its line and imports nothing', () => {
    const csv = 'serial,owner\nOK,a@x.io\n,b@x.io\nDUP,c@x.io\nDUP,nope\n';
    const msg = problem(() => parseInventory(csv, 'csv', 'f.csv'));
    expect(msg).to.equal(
      'f.csv: nothing imported: line 3: serial is empty | ' +
        'line 5: owner "nope" is not an e-mail address; serial "DUP" is also on line 4',
    );
    expect(problem(() => parseInventory('model\nx\n', 'csv', 'f.csv'))).to.match(/line 1: no serial column/);
    expect(problem(() => parseInventory('serial\n"unclosed\n', 'csv', 'f.csv'))).to.match(/f\.csv: nothing imported/);
  });

  it('reads JSON (an array, or {"devices": [...]}) and names a bad element by its line', () => {
    const text =
      '{\n  "devices": [\n    {"serial": "A", "uuid": "U"},\n    {"serial": "B",\n     "owners": ["x"]}\n  ]\n}';
    expect(problem(() => parseInventory(text, 'json', 'mdm.json'))).to.equal(
      'mdm.json: nothing imported: line 4: owner "x" is not an e-mail address',
    );
    expect(parseInventory('[{"serial": 12345, "owners": "a@x.io"}]', 'json', 'f')).to.deep.equal([
      { serial: '12345', hardwareUuid: null, owners: ['a@x.io'], assetTag: null },
    ]);
    expect(formatOf('x.txt', ' [')).to.equal('json');
    expect(formatOf('export', 'serial\n')).to.equal('csv');
  });
});

describe('devices/peer-cert identityOf', () => {
  const uri = { field: 'san-uri' as const, uriPrefix: 'urn:trustgate:device:' };
  it('reads the CN, refusing two', () => {
    expect(identityOf({ subject: { CN: 'S1' } as never, subjectaltname: '' }, { ...uri, field: 'cn' })).to.equal('S1');
    expect(
      identityOf({ subject: { CN: ['S1', 'S2'] } as never, subjectaltname: '' }, { ...uri, field: 'cn' }),
    ).to.equal(null);
  });
  it('reads the one SAN URI with the prefix (percent-decoded), refusing two or a crafted one', () => {
    const c = (san: string) => ({ subject: {} as never, subjectaltname: san });
    expect(identityOf(c('DNS:x.example, URI:urn:trustgate:device:C02%20A'), uri)).to.equal('C02 A');
    expect(identityOf(c('URI:urn:trustgate:device:A, URI:urn:trustgate:device:B'), uri)).to.equal(null);
    // Node JSON-quotes a value with a separator in it: it stays one (non-matching) value
    expect(identityOf(c('URI:"urn:x, URI:urn:trustgate:device:VICTIM"'), uri)).to.equal(null);
    expect(identityOf(c('DNS:s1.devices.example'), { ...uri, field: 'san-dns' })).to.equal('s1.devices.example');
    expect(sanEntries('URI:"a\\"b", DNS:c')).to.deep.equal([
      ['URI', 'a"b'],
      ['DNS', 'c'],
    ]);
  });
});
