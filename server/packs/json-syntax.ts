/**
 * The first JSON syntax error in a text, with its offset and a message a person can act on: a
 * recursive-descent scan that only checks (RFC 8259, as strict as rapidjson's default mode, which
 * osquery parses its config with). Used after JSON.parse failed, to say where and why.
 */

export interface JsonSyntaxProblem {
  offset: number;
  message: string;
}

class Fail extends Error {
  constructor(
    readonly at: number,
    msg: string,
  ) {
    super(msg);
  }
}

const LITERALS = ['true', 'false', 'null'];

/** A cursor over the text; each method consumes one construct or throws Fail where it goes wrong. */
class JsonScanner {
  private i = 0;

  constructor(private readonly text: string) {}

  /** The whole text: one value, then only whitespace. */
  document(): void {
    this.value();
    this.ws();
    if (this.i < this.text.length) this.fail(`unexpected ${this.describe()} after the end of the JSON document`);
  }

  private fail(msg: string): never {
    throw new Fail(this.i, msg);
  }

  /** The character at the cursor, for messages. */
  private describe(): string {
    return this.i >= this.text.length ? 'end of input' : `${JSON.stringify(this.text[this.i])}`;
  }

  private ws(): void {
    const t = this.text;
    while (this.i < t.length && (t[this.i] === ' ' || t[this.i] === '\t' || t[this.i] === '\n' || t[this.i] === '\r'))
      this.i++;
  }

  private value(): void {
    this.ws();
    const ch = this.text[this.i];
    if (ch === '{') return this.object();
    if (ch === '[') return this.array();
    if (ch === '"') return this.string();
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number();
    for (const lit of LITERALS) {
      if (this.text.startsWith(lit, this.i)) {
        this.i += lit.length;
        return;
      }
    }
    this.fail(`unexpected ${this.describe()}`);
  }

  private object(): void {
    this.i++; // '{'
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"') this.fail(`expected a quoted property name, found ${this.describe()}`);
      this.string();
      this.ws();
      if (this.text[this.i] !== ':') this.fail(`expected ':' after property name, found ${this.describe()}`);
      this.i++;
      this.value();
      if (this.closedAfter('property value', '}')) return;
    }
  }

  private array(): void {
    this.i++; // '['
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      if (this.closedAfter('array element', ']')) return;
    }
  }

  /**
   * After an item (`what`) of a container: true when `close` ends it, false after a comma (another item
   * follows); both consumed. Anything else fails.
   */
  private closedAfter(what: string, close: '}' | ']'): boolean {
    this.ws();
    if (this.text[this.i] === ',') {
      this.i++;
      this.ws();
      if (this.text[this.i] === close) this.fail(`trailing comma before '${close}'`);
      return false;
    }
    if (this.text[this.i] !== close) this.fail(`expected ',' or '${close}' after ${what}, found ${this.describe()}`);
    this.i++;
    return true;
  }

  private string(): void {
    const t = this.text;
    this.i++; // opening quote
    while (this.i < t.length) {
      const ch = t[this.i] ?? '';
      if (ch === '"') {
        this.i++;
        return;
      }
      if (ch === '\\') {
        this.escape();
        continue;
      }
      if (ch.charCodeAt(0) < 0x20) this.fail('control character (e.g. a line break) inside a string');
      this.i++;
    }
    this.fail('unterminated string');
  }

  /** A backslash escape in a string (the cursor on the backslash). */
  private escape(): void {
    const t = this.text;
    const esc = t[this.i + 1] ?? '';
    if ('"\\/bfnrt'.includes(esc) && esc !== '') {
      this.i += 2;
      return;
    }
    if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(this.i + 2, this.i + 6))) {
      this.i += 6;
      return;
    }
    this.i++;
    this.fail('invalid escape sequence in string');
  }

  private number(): void {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.i, this.i + 400));
    if (!m || m[0] === '' || m[0] === '-') this.fail(`unexpected ${this.describe()}`);
    this.i += m[0].length;
  }
}

/** Finds the first JSON syntax error in `text`; undefined when the text is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  try {
    new JsonScanner(text).document();
    return undefined;
  } catch (e) {
    if (e instanceof Fail) return { offset: e.at, message: e.message };
    throw e;
  }
}
