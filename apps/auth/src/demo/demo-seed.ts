/**
 * First start on an empty database: creates a demo app, an admin token and a demo user, so a
 * newcomer can log in at once. Only the local default does it (SEED_DEMO: the embedded database,
 * outside production). Secrets are written to files under DATA_DIR (mode 0600), never to the log:
 * the log shows the app_id and a curl line that reads the body from the file.
 *
 * The files are created before the app, each new (O_EXCL) and never through a symbolic link
 * (O_NOFOLLOW): a link planted there cannot point the secrets elsewhere, nor can a file left from
 * an earlier database be overwritten. If either cannot be made, nothing is seeded.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { ensurePrivateDirectory } from '@app/persistence';
import { TenantsService } from '../tenants/tenants.service';
import { UsersService } from '../users/users.service';
import { AdminTokensService } from '../admin-tokens/admin-tokens.service';

export const DEMO_USERNAME = 'demo';
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

@Injectable()
export class DemoSeed implements OnApplicationBootstrap {
  private readonly logger = new Logger('Demo');

  constructor(
    private readonly apps: TenantsService,
    private readonly users: UsersService,
    private readonly adminTokens: AdminTokensService,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.seedDemo || (await this.apps.list()).length > 0) return;

    ensurePrivateDirectory(this.config.dataDir);
    const loginFile = join(this.config.dataDir, 'demo-login.json');
    const adminFile = join(this.config.dataDir, 'demo-admin-token');
    const files = this.createFiles([loginFile, adminFile]);
    if (!files) return;
    const [loginFd, adminFd] = files;
    try {
      const app = await this.apps.create({ name: 'demo', openRegistration: true, defaultRegion: 'CN' });
      const adminToken = await this.adminTokens.create(app.id, 'demo');
      const password = randomBytes(12).toString('base64url');
      const user = await this.users.register(app, { username: DEMO_USERNAME, password });
      writeSync(loginFd, JSON.stringify({ name: DEMO_USERNAME, password }));
      writeSync(adminFd, adminToken.token);
      this.announce(app.id, user.id, loginFile, adminFile);
    } catch (error) {
      for (const file of [loginFile, adminFile]) rmSync(file, { force: true }); // made by us just now, and empty
      throw error;
    } finally {
      for (const fd of files) closeSync(fd);
    }
  }

  /** Each file new, mode 0600, not through a link; undefined (and a warning) when one cannot be. */
  private createFiles(paths: string[]): number[] | undefined {
    const made: Array<{ path: string; fd: number }> = [];
    for (const path of paths) {
      try {
        made.push({ path, fd: openSync(path, NEW_FILE, 0o600) });
      } catch (error) {
        for (const file of made) {
          closeSync(file.fd);
          rmSync(file.path, { force: true });
        }
        this.logger.warn(`Not seeding the demo app: cannot create ${path} (${(error as NodeJS.ErrnoException).code}); remove it to seed again`);
        return undefined;
      }
    }
    return made.map(({ fd }) => fd);
  }

  private announce(appId: string, userId: number, loginFile: string, adminFile: string): void {
    const shownLoginFile = relative(process.cwd(), loginFile) || loginFile;
    this.logger.log(`Created the demo app ${appId} with user "${DEMO_USERNAME}" (user_id ${userId})`);
    this.logger.log(`Its password is in ${shownLoginFile}, its admin token in ${relative(process.cwd(), adminFile) || adminFile}`);
    this.logger.log(
      `Log in: curl -s -X POST http://localhost:${this.config.port}/token/user -H 'app_id: ${appId}' ` +
        `-H 'Content-Type: application/json' -d @${shownLoginFile}`,
    );
  }
}
