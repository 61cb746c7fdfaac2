/**
 * The cache of apps that every request reads: an unknown app_id is never remembered (ids made up
 * by a client cannot fill memory, and an app that appears is found at once), and the apps that
 * exist are kept only briefly and in bounded number (app-cache.spec.ts).
 */
import { randomBytes } from 'node:crypto';
import { TestService, expectError } from '../support/test-service';
import { TenantsService } from '../../apps/auth/src/tenants/tenants.service';

/** A well-formed app_id that no app has. */
const unknownAppId = () => `nope${randomBytes(10).toString('hex')}`;

describe('the app cache', () => {
  let service: TestService;
  let apps: TenantsService;

  beforeAll(async () => {
    service = await TestService.start();
    apps = service.nest.get(TenantsService);
  });
  afterAll(() => service.close());

  it('keeps nothing for 3,000 unknown app_ids', async () => {
    const before = apps.cachedApps;
    for (let batch = 0; batch < 60; batch++) {
      const replies = await Promise.all(Array.from({ length: 50 }, () => service.call('GET', '/user/list', { appId: unknownAppId() })));
      for (const reply of replies) expectError(reply, 404, 40000);
    }
    expect(apps.cachedApps).toBe(before);
  });

  it('finds an app at once that did not exist a moment before: the miss was not remembered', async () => {
    const appId = unknownAppId();
    expectError(await service.call('GET', '/user/list', { appId }), 404, 40000);
    // The app appears under that id as if another instance or the CLI had made it just now.
    const made = await apps.create({ name: 'appears-later' });
    await service.dataSource.query('UPDATE app SET id = $1 WHERE id = $2', [appId, made.id]);
    // Past AppGuard: the app is known, and the route asks for a token.
    expectError(await service.call('GET', '/user/list', { appId }), 401, 10003);
  });
});
