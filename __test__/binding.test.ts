/**
 * ts/native/binding.ts says the addon registers exactly the functions its `Binding`
 * interface lists: this checks the two lists agree.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { native } from '../ts/native/binding.js';

it("the addon's exports are the Binding interface's members", () => {
  const source = readFileSync(new URL('../ts/native/binding.ts', import.meta.url), 'utf8');
  const body = source.slice(source.indexOf('export interface Binding {'));
  const declared = [...body.slice(0, body.indexOf('\n}')).matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]).sort();
  const exported = Object.keys(native)
    .filter((k) => typeof (native as unknown as Record<string, unknown>)[k] === 'function')
    .sort();
  expect(declared.length).toBeGreaterThan(50);
  expect(exported).toEqual(declared);
});
