// Debian's Chromium, headless, for the status page's browser tests and bench (never a downloaded
// browser): no sandbox or GPU in this VM, and none of the background traffic a fresh profile
// starts (component updates, sync, first-run pages), which would share the cores being measured.
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launchChromium(executablePath = '/usr/bin/chromium'): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}
