#!/usr/bin/env node
import { main } from '../src/cli/main.ts';

const code = await main(process.argv);
// `serve` keeps running; every other command ends here.
if (code !== 0 || process.argv.length > 2 && process.argv[2] !== 'serve') process.exit(code);
