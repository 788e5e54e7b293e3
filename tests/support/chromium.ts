// Debian's Chromium, headless, for the status page's browser tests and bench (never a downloaded
// browser): no sandbox or GPU in this VM, and none of the background traffic a fresh profile
// starts (component updates, sync, first-run pages), which would share the cores being measured.
// Nor its own browser UI: Chromium 156 builds the omnibox popup (a WebUI page of its own, in a
// renderer of its own) for a new window now and then, and on a 2-core machine that renderer's
// ~300-450 ms of script parsing took a core from the page being loaded (seen in a trace of the
// status page bench's slow loads). A viewer's browser has its UI up before it opens the page.
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-features=PreloadTopChromeWebUI,WebUIOmniboxPopup'];

export function launchChromium(executablePath = '/usr/bin/chromium'): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}
