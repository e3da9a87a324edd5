// Drives sportello's public pages in a real headless Chromium and checks them with axe-core
// (WCAG 2.1 A and AA rules), then uses the simulator as a person would: keyboard, labels,
// accessible names. Run by tests/browser.rs against the real server:
//
//   node tests/browser/check.mjs http://127.0.0.1:PORT
//
// Prints one JSON summary on stdout and readable failures on stderr; exits 0 only if axe
// found no violation and every interaction passed.

import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
// Evaluated through the DevTools protocol, which the pages' Content-Security-Policy does
// not apply to (it forbids injected <script> tags, as it should).
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.SPORTELLO_CHROMIUM || '/usr/bin/chromium';
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const PAGES = ['/', '/?lang=fr', '/try', '/try?comune=brusson&lang=fr', '/c/brusson', '/c/brusson?lang=fr', '/c/isili', '/c/assemini',
  '/c/isili/accessibilita', '/c/brusson/accessibilita?lang=fr', '/accessibilita',
  '/staff/login', '/staff/login?lang=fr'];
// A console account ("email:password") to check the pages behind login; tests/browser.rs
// seeds it. Without it those checks are reported as skipped, never passed.
const STAFF = process.env.SPORTELLO_STAFF_LOGIN || '';
// The same for an account whose console language is French.
const STAFF_FR = process.env.SPORTELLO_STAFF_LOGIN_FR || '';
const STEP_MS = 10_000;

const base = (process.argv[2] || '').replace(/\/$/, '');
if (!/^https?:\/\//.test(base)) {
  console.error('usage: node check.mjs http://127.0.0.1:PORT');
  process.exit(2);
}

const summary = { base, pages: {}, interactions: {}, screenshots: [], ms: 0 };
const failures = [];
const started = Date.now();

/** Runs axe on the page as it is now; records and returns the violations. */
async function axe(page, name) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async (values) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  }, WCAG);
  summary.pages[name] = { violations };
  for (const v of violations) failures.push(`${name}: axe ${v.id} (${v.impact}): ${v.help}\n    at ${v.nodes.join('\n    at ')}`);
  return violations;
}

/** Logs in to the console as STAFF ("email:password"), by label as a screen reader user
 *  finds the fields; Enter submits the form. Ends on the console's home page. */
async function logIn(page, who = STAFF) {
  const at = who.indexOf(':');
  const [email, password] = [who.slice(0, at), who.slice(at + 1)];
  await page.goto(`${base}/staff/login`);
  await page.getByLabel('E-mail', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Password', { exact: true }).press('Enter');
  await page.waitForURL(`${base}/staff`);
}

/** Logs out from any console page (the button is named in the account's language). */
async function logOut(page) {
  await page.goto(`${base}/staff`);
  await page.getByRole('button', { name: /^(Uscire|Se déconnecter)$/ }).click();
  await page.waitForURL(`${base}/staff/login`);
}

/**
 * Words wider than the box they sit in at phone width (390 CSS px): a table header, a
 * button, a heading, a label or a term that the browser would have to break mid-word
 * ("Categ/oria"). Each word is measured in the element's own font.
 */
async function brokenWords(page) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    return await page.evaluate(() => {
      const canvas = document.createElement('canvas').getContext('2d');
      const found = [];
      for (const el of document.querySelectorAll('th, td, button, h1, h2, h3, label, dt, dd, legend, summary')) {
        const cs = getComputedStyle(el);
        if (cs.display === 'none' || cs.visibility === 'hidden') continue;
        const box = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        if (box <= 0) continue;
        canvas.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        for (const word of (el.innerText || '').split(/\s+/)) {
          // Long tokens that are not words (addresses, numbers, ids) may wrap anywhere.
          if (word.length < 4 || /[@/:.\d_]/.test(word)) continue;
          if (canvas.measureText(word).width > box + 1) found.push(`${el.tagName.toLowerCase()} "${word}" in ${Math.round(box)} px`);
        }
      }
      return found;
    });
  } finally {
    await page.setViewportSize(size);
  }
}

/** axe at phone width (390 CSS px), then back. */
async function axePhone(page, name) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    return await axe(page, `${name} at 390 px`);
  } finally {
    await page.setViewportSize(size);
  }
}

/** Runs one interaction; a thrown error becomes a failure, never stops the other checks. */
async function interaction(name, fn) {
  try {
    const detail = await fn();
    summary.interactions[name] = { ok: true, ...(detail || {}) };
  } catch (e) {
    summary.interactions[name] = { ok: false, error: String(e && e.message ? e.message : e) };
    failures.push(`${name}: ${summary.interactions[name].error}`);
  }
}

/** Types `text` into the message field (found by its label) and presses Enter. */
async function say(page, text) {
  const field = page.getByLabel(/^(Il Suo messaggio|Votre message)$/);
  await field.fill(text);
  await field.press('Enter');
}

/** Waits until some bot reply contains `text`. */
async function waitReply(page, text) {
  await page.locator('#log li.bot', { hasText: text }).first().waitFor({ timeout: STEP_MS });
}

/**
 * The page's width in a 320 CSS px wide window. WCAG 1.4.10 (reflow), which axe does not
 * check: at 320 px nothing may need scrolling sideways.
 */
async function width320(page) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 640 });
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize(size);
  return w;
}

const profile = mkdtempSync(join(tmpdir(), 'sportello-chromium-'));
const shots = mkdtempSync(join(tmpdir(), 'sportello-screens-'));
let context;
try {
  // A fresh profile each run (launchPersistentContext is Playwright's way to pass one).
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1024, height: 800 },
    // As root in a closed network: no sandbox, no GPU, no background connections.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(STEP_MS);
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  // The pages' own scripts must run under their Content-Security-Policy.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(`${page.url()}: ${m.text()}`);
  });

  for (const path of PAGES) {
    await interaction(`load ${path}`, async () => {
      const res = await page.goto(base + path);
      if (!res || res.status() !== 200) throw new Error(`HTTP ${res && res.status()}`);
      await axe(page, path);
      await axePhone(page, path);
      const broken = await brokenWords(page);
      if (broken.length) throw new Error(`breaks words at 390 px: ${broken.join('; ')}`);
    });
  }

  await interaction('keyboard: first Tab reaches the skip link', async () => {
    await page.goto(`${base}/try?comune=brusson`);
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({ cls: document.activeElement.className, href: document.activeElement.getAttribute('href'), text: document.activeElement.textContent }));
    if (focused.cls !== 'skip' || focused.href !== '#main') throw new Error(`first focus is ${JSON.stringify(focused)}`);
    // The skip link becomes visible when focused and moves focus to the main content.
    const box = await page.locator('a.skip').boundingBox();
    if (!box || box.x < 0) throw new Error(`skip link not visible on focus: ${JSON.stringify(box)}`);
    await page.keyboard.press('Enter');
    const id = await page.evaluate(() => document.activeElement.id);
    if (id !== 'main') throw new Error(`Enter on the skip link focused #${id}, not #main`);
    return { focused: focused.text };
  });

  await interaction('brusson: MI ISCRIVO is confirmed', async () => {
    await say(page, 'MI ISCRIVO');
    await waitReply(page, 'Iscrizione confermata');
  });

  await interaction('assemini: Iscrivimi, the questions, then the Sì button', async () => {
    await page.goto(`${base}/try?comune=assemini`);
    await say(page, 'Iscrivimi');
    // Answer what the flow asks (name, surname, date of birth) until a reply offers buttons.
    const answers = ['Mario', 'Rossi', '12/03/1980'];
    const bot = page.locator('#log li.bot');
    const buttons = page.locator('#log li.bot button');
    let sent = 1;
    let seen = 0;
    for (;;) {
      // One fetch answers each message and all its replies are added at once.
      await page.waitForFunction((n) => document.querySelectorAll('#log li.bot').length > n, seen);
      seen = await bot.count();
      if ((await buttons.count()) > 0) break;
      if (!answers.length) throw new Error('no reply offered buttons');
      await say(page, answers.shift());
      sent += 1;
    }
    await page.getByRole('button', { name: 'Sì', exact: true }).click();
    await waitReply(page, 'Iscrizione alla lista broadcast');
    await axe(page, '/try?comune=assemini (after the conversation)');
    const w = await width320(page);
    if (w > 320) throw new Error(`the conversation is ${w} px wide at 320 px (WCAG 1.4.10)`);
    const path = join(shots, 'try-assemini-conversation.png');
    await page.screenshot({ path, fullPage: true });
    summary.screenshots.push(path);
    return { messages: sent + 1 };
  });

  await interaction('brusson fr: the S\'INSCRIRE link and the QR code', async () => {
    await page.goto(`${base}/c/brusson?lang=fr`);
    const link = page.getByRole('link', { name: "S'INSCRIRE", exact: true });
    const href = await link.getAttribute('href');
    if (href !== 'https://wa.me/393483978832?text=JE%20M%27INSCRIS') throw new Error(`S'INSCRIRE points to ${href}`);
    const qr = page.locator('figure.qr svg');
    const role = await qr.getAttribute('role');
    const name = await qr.getAttribute('aria-label');
    if (role !== 'img' || !name || !name.trim()) throw new Error(`QR svg: role=${role} aria-label=${name}`);
    // The name as the browser's accessibility tree exposes it, not just the attribute.
    await page.getByRole('img', { name }).waitFor();
    return { href, qr: name };
  });

  await interaction('reflow at 320 px', async () => {
    const wide = [];
    for (const path of PAGES) {
      await page.goto(base + path);
      const w = await width320(page);
      if (w > 320) wide.push(`${path} is ${w} px wide`);
    }
    if (wide.length) throw new Error(wide.join('; '));
  });

  await interaction('screenshot /c/brusson', async () => {
    await page.goto(`${base}/c/brusson`);
    const path = join(shots, 'c-brusson.png');
    await page.screenshot({ path, fullPage: true });
    summary.screenshots.push(path);
  });

  await interaction('console: log in by keyboard, then home and a comune', async () => {
    if (!STAFF) return { skipped: 'SPORTELLO_STAFF_LOGIN not set' };
    await logIn(page);
    await axe(page, '/staff (logged in)');
    const links = page.locator('main h2 a');
    const comuni = await links.count();
    if (comuni === 0) throw new Error('the home page lists no comune');
    const w = await width320(page);
    if (w > 320) throw new Error(`/staff is ${w} px wide at 320 px (WCAG 1.4.10)`);
    await links.first().click();
    await page.waitForURL(/\/staff\/[a-z-]+$/);
    await axe(page, `${new URL(page.url()).pathname} (logged in)`);
    const w2 = await width320(page);
    if (w2 > 320) throw new Error(`${page.url()} is ${w2} px wide at 320 px (WCAG 1.4.10)`);
    await page.getByRole('button', { name: 'Uscire' }).click();
    await page.waitForURL(`${base}/staff/login`);
    return { comuni };
  });

  await interaction('console: the administrative and broadcast pages pass axe', async () => {
    if (!STAFF) return { skipped: 'SPORTELLO_STAFF_LOGIN not set' };
    await logIn(page);
    const paths = ['/staff/audit', '/staff/password', '/staff/brusson/faq', '/staff/brusson/closures',
      '/staff/brusson/privacy', '/staff/brusson/report', '/staff/brusson/broadcasts', '/staff/brusson/broadcasts/new',
      '/staff/brusson/broadcasts/new?lang=fr', '/staff/isili/faq?lang=fr'];
    // A moderation case and its decision form, in both languages.
    const casePath = process.env.SPORTELLO_CASE_PATH;
    if (casePath) paths.push(casePath, `${casePath}?lang=fr`);
    for (const path of paths) {
      const res = await page.goto(base + path);
      if (!res || res.status() !== 200) throw new Error(`${path}: HTTP ${res && res.status()}`);
      await axe(page, `${path} (logged in)`);
      await axePhone(page, `${path} (logged in)`);
      const broken = await brokenWords(page);
      if (broken.length) throw new Error(`${path} breaks words at 390 px: ${broken.join('; ')}`);
      const w = await width320(page);
      if (w > 320) throw new Error(`${path} is ${w} px wide at 320 px (WCAG 1.4.10)`);
    }
    await logOut(page);
    return { pages: paths.length };
  });

  await interaction('console in French: every page family passes axe at desktop and phone width', async () => {
    if (!STAFF_FR) return { skipped: 'SPORTELLO_STAFF_LOGIN_FR not set' };
    await logIn(page, STAFF_FR);
    const lang = await page.evaluate(() => document.documentElement.lang);
    if (lang !== 'fr') throw new Error(`the French account's console is in ${lang}`);
    const paths = ['/staff', '/staff/brusson', '/staff/brusson/inbox', '/staff/accounts', '/staff/audit', '/staff/password',
      '/staff/brusson/faq', '/staff/brusson/closures', '/staff/brusson/privacy', '/staff/brusson/report',
      '/staff/brusson/subscribers', '/staff/brusson/broadcasts', '/staff/brusson/broadcasts/new'];
    for (const path of paths) {
      const res = await page.goto(base + path);
      if (!res || res.status() !== 200) throw new Error(`${path}: HTTP ${res && res.status()}`);
      await axe(page, `${path} (fr)`);
      await axePhone(page, `${path} (fr)`);
      const broken = await brokenWords(page);
      if (broken.length) throw new Error(`${path} (fr) breaks words at 390 px: ${broken.join('; ')}`);
      const w = await width320(page);
      if (w > 320) throw new Error(`${path} (fr) is ${w} px wide at 320 px (WCAG 1.4.10)`);
    }
    await logOut(page);
    return { pages: paths.length };
  });

  await interaction('console desk: claim, reply, release; the inbox updates live', async () => {
    if (!STAFF) return { skipped: 'SPORTELLO_STAFF_LOGIN not set' };
    await logIn(page);
    // From the home page to the comune's inbox, by its link.
    await page.getByRole('link', { name: /^Conversazioni aperte: 1/ }).first().click();
    await page.waitForURL(`${base}/staff/assemini/inbox`);
    await axe(page, '/staff/assemini/inbox');
    const w = await width320(page);
    if (w > 320) throw new Error(`the inbox is ${w} px wide at 320 px (WCAG 1.4.10)`);
    const status = page.locator('#inbox-status');
    if ((await status.getAttribute('role')) !== 'status') throw new Error('the inbox summary is not a status region');
    await page.locator('#inbox-rows h2 a', { hasText: 'Eleonora Lussu' }).click();
    await page.waitForURL(/\/staff\/assemini\/inbox\/[0-9a-f]{24}$/);
    await axe(page, '/staff/assemini/inbox/{ref} (waiting)');
    await page.getByRole('button', { name: 'Prendere in carico', exact: true }).click();
    await page.waitForURL(/\?done=claim$/);
    await page.getByRole('status').filter({ hasText: 'Conversazione presa in carico' }).waitFor();
    const reply = 'Buongiorno, serve la prenotazione sul portale CIE.';
    await page.getByLabel(/^Risposta al cittadino/).fill(reply);
    await page.getByRole('button', { name: 'Inviare la risposta', exact: true }).click();
    await page.waitForURL(/\?done=reply$/);
    await page.locator('ol.log li.me', { hasText: reply }).waitFor();
    await axe(page, '/staff/assemini/inbox/{ref} (held, after a reply)');
    const w2 = await width320(page);
    if (w2 > 320) throw new Error(`the conversation is ${w2} px wide at 320 px (WCAG 1.4.10)`);
    await page.getByRole('link', { name: 'Scheda del cittadino', exact: true }).click();
    await page.waitForURL(/\/staff\/assemini\/citizens\/[0-9a-f]{24}$/);
    await axe(page, '/staff/assemini/citizens/{ref}');
    const w3 = await width320(page);
    if (w3 > 320) throw new Error(`the citizen page is ${w3} px wide at 320 px (WCAG 1.4.10)`);
    await page.goBack();
    await page.getByRole('button', { name: 'Restituire al bot', exact: true }).click();
    await page.waitForURL(/\/staff\/assemini\/inbox\?done=release$/);
    await page.getByRole('status').filter({ hasText: 'Conversazione restituita al bot' }).waitFor();
    await axe(page, '/staff/assemini/inbox (after a release)');
    const shot = join(shots, 'staff-inbox.png');
    await page.screenshot({ path: shot, fullPage: true });
    summary.screenshots.push(shot);

    // Live: a citizen asks for a person while the inbox is open; the script (polling every
    // 10 s) adds the row and the status line announces the new count, with no reload.
    const hook = process.env.SPORTELLO_LIVE_WEBHOOK;
    if (!hook) return { live: 'skipped: SPORTELLO_LIVE_WEBHOOK not set' };
    await page.goto(`${base}/staff/assemini/inbox`);
    let reloaded = false;
    page.once('load', () => { reloaded = true; });
    const res = await fetch(`${base}/webhook/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': process.env.SPORTELLO_LIVE_SIGNATURE },
      body: hook,
    });
    if (res.status !== 200) throw new Error(`the webhook answered ${res.status}`);
    // Pushed over the page's event stream: the fallback poll (every 10 s) is slower than this.
    await page.locator('#inbox-rows h2 a', { hasText: 'Emilio Lussu' }).waitFor({ timeout: 8_000 });
    await status.filter({ hasText: 'Conversazioni: 2' }).waitFor({ timeout: 2_000 });
    if (reloaded) throw new Error('the page reloaded');
    await axe(page, '/staff/assemini/inbox (after a live update)');
    await logOut(page);
    return { live: 'row added without reload, over server-sent events' };
  });

  await interaction('handover: a simulator citizen asks for a person; the reply typed by keyboard appears live', async () => {
    if (!STAFF) return { skipped: 'SPORTELLO_STAFF_LOGIN not set' };
    // The citizen in a tab of their own (the simulator's session is per tab).
    const citizen = await context.newPage();
    citizen.on('pageerror', (e) => errors.push(`${citizen.url()}: ${e.message}`));
    await citizen.goto(`${base}/try?comune=assemini`);
    await say(citizen, 'Vorrei parlare con un operatore, per favore');
    await citizen.locator('#log li.bot').first().waitFor();
    // The operator, by keyboard from the inbox.
    await logIn(page);
    await page.goto(`${base}/staff/assemini/inbox`);
    const row = page.locator('#inbox-rows li', { hasText: 'Prova dal simulatore' }).locator('h2 a');
    await row.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/staff\/assemini\/inbox\/[0-9a-f]{24}$/);
    await page.locator('ol.log li.event', { hasText: 'chiesto di parlare con una persona' }).waitFor();
    await axe(page, '/staff/assemini/inbox/{trial}');
    await axePhone(page, '/staff/assemini/inbox/{trial}');
    const reply = 'Buongiorno, sono l\'operatore: in che cosa posso esserLe utile?';
    await page.getByLabel(/^Risposta al cittadino/).focus();
    await page.keyboard.type(reply);
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement.textContent);
    if (focused !== 'Inviare la risposta') throw new Error(`Tab after the reply reached "${focused}"`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\?done=reply$/);
    // In the simulator, with no reload, under the operator's name.
    await citizen.locator('#log li.staff', { hasText: reply }).waitFor({ timeout: 8_000 });
    await axe(citizen, '/try?comune=assemini (after an operator\'s reply)');
    // The thread shows the reply delivered to the simulator page.
    await page.locator('ol.log li.me .tick-delivered').waitFor({ timeout: 8_000 });
    const shot = join(shots, 'try-handover.png');
    await citizen.screenshot({ path: shot, fullPage: true });
    summary.screenshots.push(shot);
    const desk = join(shots, 'staff-trial.png');
    await page.screenshot({ path: desk, fullPage: true });
    summary.screenshots.push(desk);
    await citizen.close();
    await logOut(page);
    return { reply: 'seen in the simulator' };
  });

  if (errors.length) {
    summary.interactions['no script errors'] = { ok: false, error: errors.join('; ') };
    failures.push(...errors.map((e) => `script error: ${e}`));
  }
} catch (e) {
  failures.push(`browser: ${e && e.stack ? e.stack : e}`);
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}

summary.ms = Date.now() - started;
summary.ok = failures.length === 0;
console.log(JSON.stringify(summary, null, 2));
for (const p of summary.screenshots) console.error(`screenshot: ${p}`);
if (failures.length) {
  console.error(`\n${failures.length} browser check(s) failed:\n`);
  for (const f of failures) console.error(`- ${f}`);
}
process.exit(failures.length ? 1 : 0);
