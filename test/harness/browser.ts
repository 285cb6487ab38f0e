import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * A real headless Chromium for the browser tests: Debian's `chromium` package, driven by
 * playwright-core (no browser download). `.ci/run` installs it when it is missing.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Where tests keep what a person should look at afterwards (screenshots); gitignored. */
export const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}, and the browser tests need a real browser: install it with `
      + '`apt-get update && apt-get install -y chromium` (.ci/run does this when it is missing), then run the test again.');
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
