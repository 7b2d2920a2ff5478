/** `npm run bench -- <name>`: benchmarks, run on purpose and never part of the tests. */
import { cliBench } from './cli.js';
import { proxyBench } from './proxy.js';
import { refreshStormBench } from './refresh-storm.js';

const benches: Record<string, (args: string[]) => Promise<void>> = {
  cli: cliBench,
  proxy: proxyBench,
  'refresh-storm': refreshStormBench,
};

const [name, ...args] = process.argv.slice(2);
const bench = name === undefined ? undefined : benches[name];
if (bench === undefined) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}>\n`);
  process.exitCode = 2;
} else {
  await bench(args);
}
