// Rewrites the settings table in README.md from the config schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from '../src/config/docs.ts';

const readme = readFileSync('README.md', 'utf8');
writeFileSync('README.md', withConfigTable(readme));
console.log('README.md settings table updated');
