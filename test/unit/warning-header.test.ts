import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { warningHeaderValue } from '../../src/apiserver/warning-header.ts';

test('warnings quoting any Unicode text become a header Node accepts, carrying UTF-8 on the wire', () => {
  const texts = ['metadata.finalizers: "a.Û": prefer a domain-qualified finalizer name', 'label «日本語» 🙂', 'del \x7f and nul \0', 'lone \ud800 surrogate', 'plain'];
  const value = warningHeaderValue(texts);
  assert.doesNotThrow(() => validateHeaderValue('Warning', value));
  const wire = Buffer.from(value, 'latin1').toString('utf8');
  assert.equal(wire, texts.map((t) => `299 - ${JSON.stringify(t).replace(/\x7f/g, '\\u007f')}`).join(', '));
  assert.ok(wire.includes('«日本語» 🙂'));
  assert.equal(warningHeaderValue(['plain']), '299 - "plain"');
});
