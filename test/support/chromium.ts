/**
 * Debian's Chromium, driven by playwright-core, for the tests that look at a page the way a person
 * does. No browser is downloaded (playwright-core never does, and nothing but package registries
 * is reachable here): the browser is the `chromium` Debian package, installed by CI with apt-get.
 *
 * Every launch gets a new empty profile, the flags that keep Chromium from calling home, and a
 * request filter that lets the page reach only the origin under test: anything else is aborted
 * and listed in `foreignRequests`, so a page that tries to load from the internet fails its test
 * instead of quietly sending traffic off the machine.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Every console message of the page, as `type: text`. */
  console: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** Requests to any origin other than the allowed one (all aborted). */
  foreignRequests: string[];
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile; the page may only talk to `allowedOrigin`. Close it with `close()`. */
export async function launchChromium(allowedOrigin: string): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. Install Debian's package: ` +
        '`apt-get update && apt-get install -y chromium` (playwright-core downloads no browser).',
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'im-auth-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Chromium at ${CHROMIUM_PATH} could not be launched: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }

  const close = async () => {
    try {
      await context.close();
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  };
  try {
    return await watch(context, new URL(allowedOrigin).origin, close);
  } catch (error) {
    // Never leave a browser behind: an open Chromium keeps Jest from exiting.
    await close();
    throw error;
  }
}

async function watch(context: BrowserContext, origin: string, close: () => Promise<void>): Promise<BrowserSession> {
  const foreignRequests: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    foreignRequests.push(url);
    return route.abort('blockedbyclient');
  });

  // Chromium also logs each violation to the console; the DOM event is the second witness.
  // (A script string: this project compiles without the DOM library.)
  await context.addInitScript({
    content: `
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) => {
        window.__cspViolations.push(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.sourceFile + ':' + event.lineNumber + ')');
      });`,
  });

  const page = context.pages()[0] ?? (await context.newPage());
  const consoleMessages: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { context, page, console: consoleMessages, pageErrors, foreignRequests, close };
}

/**
 * The Content-Security-Policy violations of the page's current document: the console messages in
 * which Chromium reports one, and the `securitypolicyviolation` events the document saw.
 */
export async function cspViolations(session: BrowserSession): Promise<string[]> {
  const logged = session.console.filter((line) => /Content[- ]Security[- ]Policy/i.test(line));
  const events = (await session.page.evaluate('window.__cspViolations || []')) as string[];
  return [...logged, ...events.map((event) => `securitypolicyviolation: ${event}`)];
}
