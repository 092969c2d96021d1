// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per origin
// (package, Keystep source folder, Node internals). Usage: node bench/profile.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  /** Share of the time the main thread was not idle. */
  percentOfBusy: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  garbageCollectorMs: number;
  topFunctions: ProfileEntry[];
  byOrigin: { origin: string; selfMs: number; percentOfBusy: number }[];
  /** Time with the origin anywhere on the stack (a sample counts once per origin). */
  inclusiveByOrigin: { origin: string; totalMs: number; percentOfBusy: number }[];
}

const ROOT = path.resolve(import.meta.dirname, '..');

/** Where a function comes from: an npm package, a Keystep folder, Node itself, or V8. */
export function originOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0] ?? url;
  }
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    // node:internal/deps/undici/undici -> node:internal/deps/undici
    return `node:${parts.slice(0, parts[0] === 'internal' ? (parts[1] === 'deps' ? 3 : 2) : 1).join('/')}`;
  }
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const relative = path.relative(ROOT, file);
  if (!relative.startsWith('..')) {
    const parts = relative.split(path.sep);
    return parts.length > 2 ? `keystep ${parts.slice(0, 2).join('/')}` : `keystep ${relative}`;
  }
  return path.basename(file);
}

function shortWhere(frame: CallFrame): string {
  if (!frame.url) return '';
  const url = frame.url.startsWith('file://') ? decodeURIComponent(new URL(frame.url).pathname) : frame.url;
  const modules = url.lastIndexOf('/node_modules/');
  const shown = modules >= 0 ? url.slice(modules + '/node_modules/'.length) : path.isAbsolute(url) ? path.relative(ROOT, url) : url;
  return `${shown}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each sample stands for the time until the next one (as Chrome DevTools counts it).
  for (let i = 0; i < samples.length; i++) {
    const ms = (deltas[i + 1] ?? 0) / 1000;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + ms);
  }
  // Origins on the path from the root to each node, for inclusive time.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const pathOrigins = new Map<number, Set<string>>();
  const originsOnPath = (id: number): Set<string> => {
    const known = pathOrigins.get(id);
    if (known) return known;
    // Iterative walk up to the first node already known (stacks can be deep).
    const chain: number[] = [];
    let cur: number | undefined = id;
    let base = new Set<string>();
    for (let guard = 0; cur !== undefined && guard < 100_000; guard++) {
      const k = pathOrigins.get(cur);
      if (k) { base = k; break; }
      chain.push(cur);
      cur = parent.get(cur);
    }
    for (const nodeId of chain.reverse()) {
      const frame = byId.get(nodeId)?.callFrame;
      const set = new Set(base);
      if (frame && frame.url) set.add(originOf(frame));
      pathOrigins.set(nodeId, set);
      base = set;
    }
    return base;
  };
  const inclusive = new Map<string, number>();
  for (const [id, ms] of self) {
    const name = byId.get(id)?.callFrame.functionName;
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') continue;
    for (const origin of originsOnPath(id)) inclusive.set(origin, (inclusive.get(origin) ?? 0) + ms);
  }
  const functions = new Map<string, { name: string; where: string; origin: string; ms: number }>();
  let totalMs = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalMs += ms;
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}`;
    const entry = functions.get(key) ?? { name: frame.functionName || '(anonymous)', where: shortWhere(frame), origin: originOf(frame), ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
  }
  const idleMs = [...functions.values()].filter((f) => f.name === '(idle)').reduce((a, f) => a + f.ms, 0);
  const gcMs = [...functions.values()].filter((f) => f.name === '(garbage collector)').reduce((a, f) => a + f.ms, 0);
  const busyMs = totalMs - idleMs;
  const pct = (ms: number) => Math.round((ms / Math.max(busyMs, 1e-9)) * 1000) / 10;
  const round = (ms: number) => Math.round(ms);
  const origins = new Map<string, number>();
  for (const f of functions.values()) if (f.name !== '(idle)') origins.set(f.origin, (origins.get(f.origin) ?? 0) + f.ms);
  return {
    totalMs: round(totalMs),
    idleMs: round(idleMs),
    busyMs: round(busyMs),
    garbageCollectorMs: round(gcMs),
    topFunctions: [...functions.values()].filter((f) => f.name !== '(idle)').sort((a, b) => b.ms - a.ms).slice(0, top)
      .map((f) => ({ name: f.name, where: f.where || f.origin, selfMs: round(f.ms), percentOfBusy: pct(f.ms) })),
    byOrigin: [...origins].sort((a, b) => b[1] - a[1]).slice(0, top).map(([origin, ms]) => ({ origin, selfMs: round(ms), percentOfBusy: pct(ms) })),
    inclusiveByOrigin: [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top).map(([origin, ms]) => ({ origin, totalMs: round(ms), percentOfBusy: pct(ms) })),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [
    `main thread: ${(summary.busyMs / 1000).toFixed(1)} s busy, ${(summary.idleMs / 1000).toFixed(1)} s idle ` +
    `(argon2 runs on the libuv thread pool, so hashing is not in this profile); GC ${(summary.garbageCollectorMs / 1000).toFixed(1)} s`,
    '  self time by origin:',
    ...summary.byOrigin.map((o) => `    ${String(o.percentOfBusy).padStart(5)}%  ${o.origin}`),
    '  time with the origin on the stack (inclusive):',
    ...summary.inclusiveByOrigin.map((o) => `    ${String(o.percentOfBusy).padStart(5)}%  ${o.origin}`),
    '  top functions by self time:',
    ...summary.topFunctions.map((f) => `    ${String(f.percentOfBusy).padStart(5)}%  ${f.name}  ${f.where}`),
  ];
  return lines.join('\n');
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/profile.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25));
  console.log(formatProfile(summary));
}
