import * as fs from 'node:fs';
import { launchChromium } from '../support/chromium';

it('blocks other origins', async () => {
  const browser = await launchChromium('http://127.0.0.1:9');
  try {
    const r = await browser.page.goto('http://localhost:8/x').catch((e) => String(e).split('\n')[0]);
    console.log(r, browser.foreignRequests);
  } finally {
    await browser.close();
  }
});
it('says clearly when chromium is missing', async () => {
  jest.spyOn(fs, 'existsSync').mockReturnValue(false);
  await launchChromium('http://127.0.0.1:9');
});
