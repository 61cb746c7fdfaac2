/**
 * The operator commands. Each returns what the CLI prints as its last line (one JSON value), so
 * scripts can read the result with `tail -n1`.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError } from '@app/contract';
import { TenantsService } from '../tenants/tenants.service';
import { UsersService } from '../users/users.service';
import { AdminTokensService } from '../admin-tokens/admin-tokens.service';
import { SigningKeysService } from '../signing-keys/signing-keys.service';
import { AppStatus, type AppEntity } from '../tenants/app.entity';
import type { NewAppSettings } from '../tenants/tenants.service';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { SecretBox } from '../crypto/secret-box';
import { appFileKeyOf, fileStoreSecretOf } from '../token/store-token';

export class UsageError extends Error {}

export const USAGE = `Usage: npm run cli -- <command> [options]

  app create --name NAME [SETTINGS]
        Creates an app and its first admin token: {"app_id": ..., "admin_token": ...}
  app update --app APP_ID [--name NAME] [SETTINGS] [--closed-registration] [--disable | --enable]
        SETTINGS: [--open-registration] [--default-region CN] [--token-ttl SECONDS]
          [--password-min-length N] [--encrypt-type 0|1] [--error-http-status mirror|200]
          [--login-free-failures N] [--login-ip-free-failures N] [--login-max-delay SECONDS]
          [--login-failure-reset SECONDS]   (the login throttle: docs/security.md)
  app list
  app file-key --app APP_ID
        The key of this app's file service, which checks its store tokens (docs/tokens.md):
        {"app_id": ..., "file_key": 64 hex digits}. It is a secret: give it to that service only.
  user create --app APP_ID [--username U] [--mobile M] [--email E] [--password P | --password-stdin]
        Without a password, one is generated and printed once.
  user import --app APP_ID --file users.jsonl
        One JSON object a line: {"username"?, "mobile"?, "email"?, "password_hash"} with a bcrypt
        ($2a$/$2b$/$2y$) or argon2id hash, re-hashed to argon2id at the user's first login. Each
        line succeeds or fails on its own: {"imported": N, "failed": [{"line": K, "reason": ...}]}
  admin-token create --app APP_ID [--label LABEL] [--scope admin|verifier]
        A verifier token only reads the app's revocation log and introspects tokens: give it, not
        an admin token, to a service that verifies tokens (libs/auth-client).
  admin-token list --app APP_ID
  admin-token revoke (--token TOKEN | --id ID)
  keys rotate
        Retires the active signing key and makes a new one: {"kid": NEW, "retired": OLD}. Tokens
        signed with the old key verify until they expire; running instances switch within a second
        or two (30 s where they cannot be notified).
  keys revoke KID
        For a leaked key: it stops verifying and leaves the JWKS at once (a new key takes over when
        it was the active one), and every session it may have signed is revoked:
        {"kid", "revoked_at", "replaced_by", "sessions_revoked"}. Services verifying locally stop
        accepting it when they next fetch the JWKS (within its one-minute max-age).
  keys list
        Every signing key, oldest first: kid, created_at, retired_at, revoked_at, active.

Without DATABASE_URL the CLI uses the embedded database in DATA_DIR, through the running service
when \`npm start\` is up.`;

type Command = (context: INestApplicationContext, args: string[], stdin: () => Promise<string>) => Promise<unknown>;

export const COMMANDS: Record<string, Command> = {
  'app create': async (context, args) => {
    const { values } = parse(args, { name: { type: 'string' }, ...APP_SETTING_OPTIONS });
    const app = await context.get(TenantsService).create({ name: required(values.name, '--name'), ...appSettings(values) });
    const adminToken = await context.get(AdminTokensService).create(app.id, 'created with the app');
    return { app_id: app.id, admin_token: adminToken.token };
  },

  'app update': async (context, args) => {
    const { values } = parse(args, {
      app: { type: 'string' },
      name: { type: 'string' },
      'closed-registration': { type: 'boolean' },
      disable: { type: 'boolean' },
      enable: { type: 'boolean' },
      ...APP_SETTING_OPTIONS,
    });
    const app = await findApp(context, required(values.app, '--app'));
    if (values.disable && values.enable) throw new UsageError('--disable and --enable contradict each other');
    if (values['open-registration'] && values['closed-registration']) throw new UsageError('--open-registration and --closed-registration contradict each other');
    const changes = {
      ...appSettings(values),
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values['closed-registration'] ? { openRegistration: false } : {}),
      ...(values.disable ? { status: AppStatus.Disabled } : values.enable ? { status: AppStatus.Active } : {}),
    };
    if (Object.keys(changes).length === 0) throw new UsageError('app update needs at least one setting to change');
    const updated = await context.get(TenantsService).update(app.id, changes);
    return describeApp(updated!);
  },

  'app list': async (context) => {
    const apps = await context.get(TenantsService).list();
    return apps.map(describeApp);
  },

  'app file-key': async (context, args) => {
    const { values } = parse(args, { app: { type: 'string' } });
    const app = await findApp(context, required(values.app, '--app'));
    const secret = fileStoreSecretOf(context.get<ServiceConfig>(SERVICE_CONFIG), context.get(SecretBox));
    return { app_id: app.id, file_key: appFileKeyOf(secret, app.id).toString('hex') };
  },

  'user create': async (context, args, stdin) => {
    const { values } = parse(args, {
      app: { type: 'string' },
      username: { type: 'string' },
      mobile: { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    });
    const app = await findApp(context, required(values.app, '--app'));
    const generated = values.password === undefined && !values['password-stdin'];
    const password = values['password-stdin'] ? (await stdin()).replace(/\r?\n$/, '') : (values.password ?? randomBytes(12).toString('base64url'));
    const user = await context.get(UsersService).register(app, {
      username: values.username,
      mobile: values.mobile,
      email: values.email,
      password,
    });
    return {
      user_id: user.id,
      username: user.username,
      mobile: user.mobile,
      email: user.email,
      ...(generated ? { password } : {}),
    };
  },

  'user import': async (context, args) => {
    const { values } = parse(args, { app: { type: 'string' }, file: { type: 'string' } });
    const app = await findApp(context, required(values.app, '--app'));
    const file = required(values.file, '--file');
    let text: string;
    try {
      text = readFileSync(file, 'utf8').replace(/^\uFEFF/, ''); // a byte-order mark, as some exporters write
    } catch (error) {
      throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`);
    }
    const users = context.get(UsersService);
    const failed: { line: number; reason: string }[] = [];
    let imported = 0;
    for (const [index, line] of text.split(/\r?\n/).entries()) {
      if (line.trim() === '') continue;
      const read = readImportedUser(line);
      if (!read.ok) {
        failed.push({ line: index + 1, reason: read.reason });
        continue;
      }
      try {
        await users.importUser(app, read.value);
        imported++;
      } catch (error) {
        // Only a refusal of this line is its failure; anything else (the database gone) stops the import.
        if (!(error instanceof ApiError)) throw error;
        failed.push({ line: index + 1, reason: error.message });
      }
    }
    return { imported, failed };
  },

  'admin-token create': async (context, args) => {
    const { values } = parse(args, { app: { type: 'string' }, label: { type: 'string' }, scope: { type: 'string', default: 'admin' } });
    const app = await findApp(context, required(values.app, '--app'));
    const scope = values.scope;
    if (scope !== 'admin' && scope !== 'verifier') throw new UsageError('--scope takes admin or verifier');
    const issued = await context.get(AdminTokensService).create(app.id, values.label, scope);
    return { app_id: app.id, id: issued.id, scope, admin_token: issued.token };
  },

  'admin-token list': async (context, args) => {
    const { values } = parse(args, { app: { type: 'string' } });
    const app = await findApp(context, required(values.app, '--app'));
    const tokens = await context.get(AdminTokensService).list(app.id);
    return tokens.map((token) => ({ id: token.id, label: token.label, scope: token.scope, created_at: token.createdAt, revoked_at: token.revokedAt }));
  },

  'admin-token revoke': async (context, args) => {
    const { values } = parse(args, { token: { type: 'string' }, id: { type: 'string' } });
    const target = values.token ?? values.id;
    if (!target) throw new UsageError('admin-token revoke needs --token or --id');
    return { revoked: await context.get(AdminTokensService).revoke(target) };
  },

  'keys rotate': async (context, args) => {
    parse(args, {});
    return context.get(SigningKeysService).rotate();
  },

  'keys revoke': async (context, args) => {
    const { positionals } = parse(args, {}, { positionals: true });
    if (positionals.length !== 1) throw new UsageError('keys revoke takes one KID (npm run cli -- keys list shows them)');
    const revoked = await context.get(SigningKeysService).revoke(positionals[0]);
    if (!revoked) throw new UsageError(`No signing key ${positionals[0]}`);
    return revoked;
  },

  'keys list': async (context, args) => {
    parse(args, {});
    return context.get(SigningKeysService).list();
  },
};

const APP_SETTING_OPTIONS = {
  'open-registration': { type: 'boolean' },
  'default-region': { type: 'string' },
  'token-ttl': { type: 'string' },
  'password-min-length': { type: 'string' },
  'encrypt-type': { type: 'string' },
  'error-http-status': { type: 'string' },
  'login-free-failures': { type: 'string' },
  'login-ip-free-failures': { type: 'string' },
  'login-max-delay': { type: 'string' },
  'login-failure-reset': { type: 'string' },
} as const;

type AppSettingValues = { [K in keyof typeof APP_SETTING_OPTIONS]?: (typeof APP_SETTING_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** The settings given on the command line, checked; absent ones are left out. */
function appSettings(values: AppSettingValues): Partial<Omit<NewAppSettings, 'name'>> {
  const errorHttpStatus = values['error-http-status'];
  if (errorHttpStatus !== undefined && errorHttpStatus !== 'mirror' && errorHttpStatus !== '200') {
    throw new UsageError('--error-http-status takes mirror or 200');
  }
  const region = values['default-region'];
  if (region !== undefined && !/^[A-Za-z]{2}$/.test(region)) throw new UsageError('--default-region takes a two-letter region such as CN');
  const settings: Partial<Omit<NewAppSettings, 'name'>> = {
    openRegistration: values['open-registration'] ? true : undefined,
    defaultRegion: region?.toUpperCase(),
    tokenTtlSeconds: integer(values['token-ttl'], '--token-ttl', 60, 365 * 24 * 3600),
    passwordMinLength: integer(values['password-min-length'], '--password-min-length', 1, 256),
    encryptType: integer(values['encrypt-type'], '--encrypt-type', 0, 1),
    errorHttpStatus: errorHttpStatus === undefined ? undefined : errorHttpStatus === '200' ? 'always-200' : 'mirror',
    loginFreeFailures: integer(values['login-free-failures'], '--login-free-failures', 1, 1000),
    loginIpFreeFailures: integer(values['login-ip-free-failures'], '--login-ip-free-failures', 1, 1_000_000),
    loginMaxDelaySeconds: integer(values['login-max-delay'], '--login-max-delay', 1, 24 * 3600),
    loginFailureResetSeconds: integer(values['login-failure-reset'], '--login-failure-reset', 60, 30 * 24 * 3600),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

function describeApp(app: AppEntity) {
  return {
    app_id: app.id,
    name: app.name,
    status: app.status,
    open_registration: app.openRegistration,
    token_ttl_seconds: app.tokenTtlSeconds,
    password_min_length: app.passwordMinLength,
    default_region: app.defaultRegion,
    encrypt_type: app.encryptType,
    error_http_status: app.errorHttpStatus,
    login_free_failures: app.loginFreeFailures,
    login_ip_free_failures: app.loginIpFreeFailures,
    login_max_delay_seconds: app.loginMaxDelaySeconds,
    login_failure_reset_seconds: app.loginFailureResetSeconds,
    created_at: app.createdAt,
  };
}

const IMPORT_FIELDS = ['username', 'mobile', 'email', 'password_hash'];

type ImportedUser = Parameters<UsersService['importUser']>[1];

/** One line of a `user import` file, or why it is not one. */
function readImportedUser(line: string): { ok: true; value: ImportedUser } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'not a JSON object' };
  const record = parsed as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !IMPORT_FIELDS.includes(key));
  if (unknown.length > 0) return { ok: false, reason: `unknown field: ${unknown.join(', ')}` };
  // null reads as absent: exports from other systems often write a missing identifier that way.
  const fields: Record<string, string | undefined> = {};
  for (const key of IMPORT_FIELDS) {
    const value = record[key];
    if (value !== undefined && value !== null && typeof value !== 'string') return { ok: false, reason: `${key} must be a string` };
    fields[key] = value ?? undefined;
  }
  if (fields.password_hash === undefined) return { ok: false, reason: 'password_hash is required' };
  return { ok: true, value: { username: fields.username, mobile: fields.mobile, email: fields.email, passwordHash: fields.password_hash } };
}

async function findApp(context: INestApplicationContext, appId: string): Promise<AppEntity> {
  const app = await context.get(TenantsService).find(appId);
  if (!app) throw new UsageError(`No app ${appId}`);
  return app;
}

function parse<const T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, { positionals = false } = {}) {
  try {
    return parseArgs({ args, options, strict: true as const, allowPositionals: positionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}

function integer(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new UsageError(`${flag} takes an integer from ${min} to ${max}`);
  return parsed;
}
