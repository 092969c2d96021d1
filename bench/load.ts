// The load generator: a separate process that drives whole logins against a running Keystep, as a
// browser and an app (openid-client) would. bench/run.ts starts it with the path of a JSON config as
// the only argument; it prints JSON lines: {"type":"measure-start"}, {"type":"measure-end"}, {"type":"result",...}.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { actionOf, alertText, BenchBrowser, callbackOf, hiddenValue, messageOf, pageOf, type MessageCode, type Page } from './http-client.ts';
import { STEPS, type BenchUser, type LoadConfig, type LoadResult, type Step } from './protocol.ts';
import { summarize, type Summary } from './stats.ts';

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LoadConfig;
const out = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const start = now();
const measureStart = start + config.warmupSeconds * 1000;
const measureEnd = measureStart + config.durationSeconds * 1000;
const inWindow = (t: number) => t >= measureStart && t <= measureEnd;
let running = true;

const samples = Object.fromEntries(STEPS.map((s) => [s, [] as number[]])) as Record<Step, number[]>;
const smsFetch: number[] = [];
let logins = 0;
let errors = 0;
const errorSamples: string[] = [];
/** Every failure counts, warm-up included: the benchmark must run clean from the start. */
function error(err: unknown): void {
  errors++;
  const text = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
  if (errorSamples.length < 10) errorSamples.push(text.slice(0, 300));
}

const rp = await oidc.discovery(new URL(config.issuer), config.clientId, config.clientSecret, oidc.ClientSecretBasic(config.clientSecret), {
  execute: [oidc.allowInsecureRequests],
});

// SMS seen per number, so a login knows which message is its own.
const seen = new Map<string, number>(Object.entries(await (await fetch(`${config.gatewayOrigin}/bench/counts`)).json() as Record<string, number>));

async function inbox(phone: string): Promise<{ count: number; code: string }> {
  const res = await fetch(`${config.gatewayOrigin}/bench/sms?to=${encodeURIComponent(phone)}`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as { count: number; code: string };
}

/** The code of the SMS this login caused (exactly one more message than before). */
async function newCode(phone: string): Promise<string> {
  const before = seen.get(phone) ?? 0;
  for (let i = 0; i < 50; i++) {
    const box = await inbox(phone);
    if (box.count > before) {
      seen.set(phone, box.count);
      if (box.count !== before + 1) throw new Error(`${box.count - before} SMS for one login to ${phone}`);
      return box.code;
    }
    await sleep(20);
  }
  throw new Error(`no SMS reached the gateway for ${phone}`);
}

interface Started {
  browser: BenchBrowser;
  verifier: string;
  nonce: string;
  state: string;
  page: Page;
}

/** Authorization request with PKCE, up to the password page; `forwardedFor` is the address the browser claims. */
async function authorize(forwardedFor?: string): Promise<Started> {
  const browser = new BenchBrowser(config.redirectUri);
  browser.forwardedFor = forwardedFor;
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: config.redirectUri,
    scope: 'openid profile phone',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const page = pageOf(await browser.visit(url.toString()), 'password page');
  if (!page.html.includes('name="password"')) throw new Error('the authorization request did not show the password page');
  return { browser, verifier, nonce, state, page };
}

function submitPassword(s: Started, page: Page, username: string, password: string) {
  return s.browser.submit(actionOf(page), { _csrf: hiddenValue(page.html, '_csrf'), step: 'password', username, password });
}

function submitCode(s: Started, page: Page, fields: Record<string, string>) {
  return s.browser.submit(actionOf(page), { _csrf: hiddenValue(page.html, '_csrf'), step: hiddenValue(page.html, 'step'), ...fields });
}

/** Token exchange and userinfo, checking what the app receives. */
async function finish(s: Started, callback: string, user: BenchUser, t: Record<string, number>): Promise<void> {
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(callback), {
    pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state, idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims || !(claims.amr as string[] | undefined)?.includes('sms')) throw new Error(`the ID token lacks amr sms: ${JSON.stringify(claims?.amr)}`);
  t.token = now();
  const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
  if (info.preferred_username !== user.username) throw new Error(`userinfo names ${String(info.preferred_username)}, not ${user.username}`);
  t.userinfo = now();
}

/** The code page said no code was sent (a budget, a pause): what a real user meets when a defence misfires. */
class CodeRefused extends Error {
  readonly code: string;
  constructor(code: string) {
    super(`the code page says ${code}`);
    this.code = code;
  }
}

/** One whole two-factor login: authorize, password, SMS code, token, userinfo. */
async function fullLogin(user: BenchUser, forwardedFor?: string): Promise<void> {
  const t: Record<string, number> = { start: now() };
  const s = await authorize(forwardedFor);
  t.authorize = now();
  const codePage = pageOf(await submitPassword(s, s.page, user.username, config.password), 'code page');
  if (!codePage.html.includes('name="code"')) throw new Error(`the password did not lead to the code page: ${messageOf(codePage)}`);
  const sent = messageOf(codePage);
  if (sent !== 'none') throw new CodeRefused(sent);
  t.password = now();
  const code = await newCode(user.phone);
  t.sms = now();
  const callback = callbackOf(await submitCode(s, codePage, { action: 'verify', code }));
  t.otp = now();
  await finish(s, callback, user, t);
  if (!inWindow(t.userinfo!)) return;
  logins++;
  samples.authorize.push(t.authorize! - t.start!);
  samples.password.push(t.password! - t.authorize!);
  smsFetch.push(t.sms! - t.password!);
  samples.otp.push(t.otp! - t.sms!);
  samples.token.push(t.token! - t.otp!);
  samples.userinfo.push(t.userinfo! - t.token!);
  samples.login.push(t.userinfo! - t.start!);
}

const pool = [...config.users];

async function loginWorker(): Promise<void> {
  for (let i = 0; i < 1_000_000 && running; i++) {
    const user = pool.shift();
    if (!user) { await sleep(10); continue; }
    try {
      await fullLogin(user);
    } catch (err) {
      error(err);
      await sleep(50);
    } finally {
      pool.push(user);
    }
  }
}

// Credential stuffing: unknown usernames and wrong passwords for real ones, reusing a login page
// for many tries as an attacker would.
const stuffing = { attempts: 0, refusedBeforeHash: 0, hashed: 0, other: 0, answers: {} as Record<string, number>, latency: [] as number[] };
let stuffIndex = 0;

async function stuffingWorker(): Promise<void> {
  const targets = [...config.unknownUsernames, ...config.victims];
  let s: Started | undefined;
  let page: Page | undefined;
  let uses = 0;
  for (let i = 0; i < 10_000_000 && running; i++) {
    try {
      if (!s || !page || uses >= 50) {
        s = await authorize();
        page = s.page;
        uses = 0;
      }
      const username = targets[stuffIndex++ % targets.length]!;
      const t0 = now();
      const answer = pageOf(await submitPassword(s, page, username, `guess-${randomBytes(6).toString('hex')}`), 'password page');
      const t1 = now();
      uses++;
      page = answer;
      if (!inWindow(t1)) continue;
      const message = messageOf(answer);
      stuffing.attempts++;
      stuffing.latency.push(t1 - t0);
      stuffing.answers[message] = (stuffing.answers[message] ?? 0) + 1;
      // Refused before hashing: the throttle ("Wait N seconds") and the lock ("locked").
      if (/Wait|locked/.test(alertText(answer.html) ?? '')) stuffing.refusedBeforeHash++;
      else if (message === 'CREDENTIALS_INCORRECT') stuffing.hashed++;
      else stuffing.other++;
    } catch (err) {
      error(err);
      s = undefined;
      await sleep(50);
    }
  }
}

// Resend storm: each worker owns one account and, login after login, presses "Send a new code".
const storm = {
  sessions: 0, completed: 0, abandoned: 0, presses: 0, answers: {} as Record<string, number>,
  firstPageAnswers: {} as Record<string, number>, maxSmsPerLogin: 0,
};
const stormStartCounts = new Map<string, number>();

async function stormWorker(user: BenchUser): Promise<void> {
  stormStartCounts.set(user.phone, seen.get(user.phone) ?? 0);
  for (let i = 0; i < 100_000 && running; i++) {
    try {
      storm.sessions++;
      const before = (await inbox(user.phone)).count;
      const s = await authorize();
      let page = pageOf(await submitPassword(s, s.page, user.username, config.password), 'code page');
      const first: MessageCode | 'none' | 'unknown' = messageOf(page);
      storm.firstPageAnswers[first] = (storm.firstPageAnswers[first] ?? 0) + 1;
      for (let p = 0; p < config.resendPresses && running; p++) {
        page = pageOf(await submitCode(s, page, { action: 'resend' }), 'code page');
        const answer = messageOf(page);
        storm.presses++;
        storm.answers[answer] = (storm.answers[answer] ?? 0) + 1;
        if (answer === 'unknown') throw new Error(`unexpected answer to a resend: ${page.html.slice(0, 200)}`);
      }
      const box = await inbox(user.phone);
      const sent = box.count - before;
      storm.maxSmsPerLogin = Math.max(storm.maxSmsPerLogin, sent);
      seen.set(user.phone, box.count);
      if (sent > 0 && page.html.includes('name="code"')) {
        // The newest code (only the newest works) finishes the login.
        const t: Record<string, number> = { start: now() };
        const callback = callbackOf(await submitCode(s, page, { action: 'verify', code: box.code }));
        await finish(s, callback, user, t);
        storm.completed++;
        if (inWindow(t.userinfo!)) { logins++; samples.login.push(t.userinfo! - t.start!); }
      } else {
        const cancel = /<form[^>]*action="([^"]+\/cancel)"/.exec(page.html)?.[1];
        if (!cancel) throw new Error('no cancel form on the code page');
        const cancelled = await s.browser.submit(new URL(cancel, page.url).toString(), { _csrf: hiddenValue(page.html, '_csrf') });
        if (!cancelled.callback?.includes('error=access_denied')) throw new Error('cancel did not return access_denied');
        storm.abandoned++;
      }
    } catch (err) {
      error(err);
      await sleep(50);
    }
  }
}

// SMS pumping: the attacker owns accounts whose numbers are sequential in one range it is paid for.
// Half its workers sign in from one address, half from a new address each time; each login asks
// for the first code and then presses "Send a new code", and never enters a code. Real users, each
// from an address of their own, sign in meanwhile.
const pumping = { attackLogins: { oneAddress: 0, manyAddresses: 0 }, attackAnswers: {} as Record<string, number>, realLogins: 0, realRefused: {} as Record<string, number> };
let attackIndex = 0;

async function attackWorker(worker: number): Promise<void> {
  const oneAddress = worker % 2 === 0;
  for (let i = 0; i < 1_000_000 && running; i++) {
    const k = attackIndex++;
    const user = config.pumpAttackers[k % config.pumpAttackers.length]!;
    try {
      const s = await authorize(oneAddress ? '203.0.113.66' : `198.51.${(k >> 8) & 255}.${k & 255}`);
      let page = pageOf(await submitPassword(s, s.page, user.username, config.password), 'code page');
      if (oneAddress) pumping.attackLogins.oneAddress++;
      else pumping.attackLogins.manyAddresses++;
      for (let p = 0; p <= config.resendPresses && running; p++) {
        if (p > 0) page = pageOf(await submitCode(s, page, { action: 'resend' }), 'code page');
        const answer = messageOf(page);
        const key = `${p === 0 ? 'first' : 'resend'}: ${answer === 'none' ? 'sent' : answer}`;
        pumping.attackAnswers[key] = (pumping.attackAnswers[key] ?? 0) + 1;
        if (answer === 'unknown') throw new Error(`unexpected answer to the attack: ${page.html.slice(0, 200)}`);
      }
    } catch (err) {
      error(err);
      await sleep(50);
    }
  }
}

const realPool = config.pumpUsers.map((user, i) => ({ user, address: `192.0.2.${i % 250}`, logins: 0 }));

async function realUserWorker(): Promise<void> {
  for (let i = 0; i < 1_000_000 && running; i++) {
    // Each real user signs in at most twice: people do not sign in every few seconds.
    const entry = realPool.shift();
    if (!entry) { await sleep(10); continue; }
    try {
      await fullLogin(entry.user, entry.address);
      pumping.realLogins++;
    } catch (err) {
      if (err instanceof CodeRefused) pumping.realRefused[err.code] = (pumping.realRefused[err.code] ?? 0) + 1;
      else error(err);
    } finally {
      if (++entry.logins < 2) realPool.push(entry);
    }
  }
}

const cpu0 = process.cpuUsage();
const workers: Promise<void>[] = [];
if (config.scenario === 'resend-storm') {
  for (const user of config.stormUsers) workers.push(stormWorker(user));
} else if (config.scenario === 'pumping') {
  for (let i = 0; i < config.concurrency; i++) workers.push(realUserWorker());
  for (let i = 0; i < config.stuffingConcurrency; i++) workers.push(attackWorker(i));
} else {
  for (let i = 0; i < config.concurrency; i++) workers.push(loginWorker());
  if (config.scenario === 'stuffing') for (let i = 0; i < config.stuffingConcurrency; i++) workers.push(stuffingWorker());
}

await sleep(Math.max(0, measureStart - now()));
out({ type: 'measure-start' });
await sleep(Math.max(0, measureEnd - now()));
out({ type: 'measure-end' });
running = false;
// In-flight logins finish (each request has a 30 s timeout); they are not counted.
await Promise.race([Promise.all(workers), sleep(90_000)]);
const cpu = process.cpuUsage(cpu0);
const measuredSeconds = (measureEnd - measureStart) / 1000;

const smsPerAccount: Record<string, number> = {};
for (const user of config.stormUsers) {
  if (stormStartCounts.has(user.phone)) smsPerAccount[user.username] = (seen.get(user.phone) ?? 0) - stormStartCounts.get(user.phone)!;
}
const result: LoadResult = {
  type: 'result',
  measuredSeconds,
  logins,
  loginsPerSecond: logins / measuredSeconds,
  latencyMs: Object.fromEntries(STEPS.map((s) => [s, summarize(samples[s])])) as Record<Step, Summary>,
  smsFetchMs: summarize(smsFetch),
  errors,
  errorSamples,
  loadGeneratorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  ...(config.scenario === 'stuffing' ? {
    stuffing: {
      attempts: stuffing.attempts, attemptsPerSecond: stuffing.attempts / measuredSeconds, refusedBeforeHash: stuffing.refusedBeforeHash,
      hashed: stuffing.hashed, other: stuffing.other, answers: stuffing.answers, latencyMs: summarize(stuffing.latency),
    },
  } : {}),
  ...(config.scenario === 'pumping' ? { pumping } : {}),
  ...(config.scenario === 'resend-storm' ? {
    storm: {
      sessions: storm.sessions, completed: storm.completed, abandoned: storm.abandoned, presses: storm.presses, answers: storm.answers,
      firstPageAnswers: storm.firstPageAnswers, smsReceived: Object.values(smsPerAccount).reduce((a, b) => a + b, 0),
      maxSmsPerLogin: storm.maxSmsPerLogin, smsPerAccount,
    },
  } : {}),
};
out(result);
process.exit(0);
