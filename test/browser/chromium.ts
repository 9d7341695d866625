import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type BrowserContextOptions } from 'playwright-core';
import { projectRoot } from '../../common/paths';

/** Debian's chromium package; playwright-core never downloads a browser of its own here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(projectRoot(__dirname), 'test-artifacts', 'screenshots');

/**
 * Skips the calling suite with a loud message when Chromium is missing, except under CI=true, where a missing
 * browser must fail the run rather than let the suite pass without having run.
 */
export function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM_PATH)) return;
  const message = `Chromium not found at ${CHROMIUM_PATH}: install it with 'apt-get install -y chromium' (or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`${message}. CI=true, so the browser suite fails instead of skipping.`);
  process.stderr.write(`\n  !!! SKIPPING the browser suite: ${message} !!!\n\n`);
  ctx.skip();
}

export interface Browser {
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh user-data-dir per context (no profile, cache or cookies carried between tests),
 * no sandbox (CI runs as root), no GPU and no background traffic: it only ever talks to our loopback servers.
 */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const contexts: { context: BrowserContext; dir: string }[] = [];
  return {
    async newContext(options: BrowserContextOptions = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'bazar-chromium-'));
      const context = await chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        viewport: { width: 1280, height: 800 },
        ...options,
      });
      contexts.push({ context, dir });
      return context;
    },
    async close() {
      for (const { context, dir } of contexts.splice(0)) {
        await context.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function screenshotPath(name: string): string {
  return join(SCREENSHOT_DIR, `${name}.png`);
}
