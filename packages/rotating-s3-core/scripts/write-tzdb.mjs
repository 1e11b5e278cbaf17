#!/usr/bin/env node
// Build step: dumps the packed IANA tzdb of the installed @js-joda/timezone to dist/tzdb.txt, so the CLI
// can load just the stage's zone at start-up instead of unpacking every zone (~150 ms).
//
// Format (read by src/time/zone.ts), one entry per line so a lookup is a string search, not a parse of
// the whole file (~700 KB):
//   line 1           the tzdb version, e.g. `2026a`
//   `Z<zone>`        a packed zone: `Name|abbreviations|offsets|indices|untils|population`
//   `L<target>|<alias>`  a link: `alias` is another name for zone `target`
// Packed entries never contain a newline (checked below).
import { writeFileSync, mkdirSync } from 'node:fs';
import { ZoneRulesProvider } from '@js-joda/core';
import '@js-joda/timezone';

const { version, zones, links } = ZoneRulesProvider.getTzdbData();
const lines = [version, ...zones.map((z) => `Z${z}`), ...links.map((l) => `L${l}`)];
if (lines.some((line) => line.includes('\n'))) throw new Error('write-tzdb: a packed tzdb entry contains a newline');
const out = new URL('../dist/tzdb.txt', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${lines.join('\n')}\n`);
