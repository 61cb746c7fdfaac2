/**
 * First start on an empty database: creates a demo app, an admin token and a demo user, so a
 * newcomer can log in at once. Secrets are written to files under DATA_DIR (mode 0600), never to
 * the log: the log shows the app_id and a curl line that reads the body from the file.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { AppsService } from '../apps/apps.service';
import { UsersService } from '../users/users.service';
import { AdminTokensService } from '../admin-tokens/admin-tokens.service';

export const DEMO_USERNAME = 'demo';

@Injectable()
export class DemoSeed implements OnApplicationBootstrap {
  private readonly logger = new Logger('Demo');

  constructor(
    private readonly apps: AppsService,
    private readonly users: UsersService,
    private readonly adminTokens: AdminTokensService,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.seedDemo || (await this.apps.list()).length > 0) return;

    const app = await this.apps.create({ name: 'demo', openRegistration: true, defaultRegion: 'CN' });
    const adminToken = await this.adminTokens.create(app.id, 'demo');
    const password = randomBytes(12).toString('base64url');
    const user = await this.users.register(app, { username: DEMO_USERNAME, password });

    mkdirSync(this.config.dataDir, { recursive: true });
    const loginFile = join(this.config.dataDir, 'demo-login.json');
    const adminFile = join(this.config.dataDir, 'demo-admin-token');
    writeFileSync(loginFile, JSON.stringify({ name: DEMO_USERNAME, password }), { mode: 0o600 });
    writeFileSync(adminFile, adminToken.token, { mode: 0o600 });

    const shownLoginFile = relative(process.cwd(), loginFile) || loginFile;
    this.logger.log(`Created the demo app ${app.id} with user "${DEMO_USERNAME}" (user_id ${user.id})`);
    this.logger.log(`Its password is in ${shownLoginFile}, its admin token in ${relative(process.cwd(), adminFile) || adminFile}`);
    this.logger.log(
      `Log in: curl -s -X POST http://localhost:${this.config.port}/token/user -H 'app_id: ${app.id}' ` +
        `-H 'Content-Type: application/json' -d @${shownLoginFile}`,
    );
  }
}
