/**
 * The environment, validated once: defaults when unset, and every bad variable reported together,
 * one line each, naming it, never echoing a secret.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadServiceConfig, type ServiceConfig } from './service-config';

type Env = Record<string, string | undefined>;

function configErrorOf(env: Env): ConfigError {
  try {
    loadServiceConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError, but ${JSON.stringify(env)} was accepted`);
}

const KEY_BYTES = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');

describe('loadServiceConfig', () => {
  it('uses the documented defaults when the environment is empty', () => {
    const expected: ServiceConfig = {
      nodeEnv: 'development',
      host: '0.0.0.0',
      port: 3000,
      databaseUrl: undefined,
      dataDir: resolve('./data'),
      allowEmbeddedDb: false,
      dbPoolSize: 10,
      dbTimeoutMs: 5000,
      errorHttpStatus: 'always-200',
      masterKey: undefined,
      tokenIssuer: 'im-auth',
      storeTokenTtlSeconds: 3600,
      sessionRetentionDays: 30,
      fileStoreSecret: undefined,
      argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
      hashingQueuePerWorker: 64,
      passwordMaxLength: 256,
      bodyLimitBytes: 16384,
      seedDemo: true,
      trustedProxies: [],
      corsOrigins: [],
      redisUrl: undefined,
      redisTimeoutMs: 300,
      intervals: { throttlePurgeMs: 600_000, revocationPurgeMs: 600_000, sessionPurgeMs: 600_000, signingKeysRefreshMs: 30_000, redisProbeMs: 1000 },
      logLevel: 'log',
      metricsEnabled: true,
      sdkDiscovery: { publicUrl: 'http://localhost:3000', webimUrls: [], rtcUrls: [] },
    };
    expect(loadServiceConfig({})).toEqual(expected);
  });

  it('treats blank variables as unset', () => {
    expect(loadServiceConfig({ PORT: '', HOST: '   ', DATABASE_URL: ' ' })).toMatchObject({ port: 3000, host: '0.0.0.0', databaseUrl: undefined });
  });

  it('reads valid values, trimming surrounding spaces', () => {
    const config = loadServiceConfig({
      PORT: ' 8080 ',
      DATABASE_URL: 'postgres://auth:secret@db.internal:5432/auth',
      ARGON2_TIME_COST: '3',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'info',
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://auth:secret@db.internal:5432/auth',
      argon2: { memoryCost: 19456, timeCost: 3, parallelism: 1 },
      seedDemo: false,
      logLevel: 'log',
    });
  });

  it('reports every bad variable in one ConfigError, one line per variable, naming it', () => {
    const error = configErrorOf({ PORT: 'abc', ARGON2_TIME_COST: '0' });
    expect(error.problems).toHaveLength(2);
    expect(error.problems[0]).toMatch(/^PORT\b/);
    expect(error.problems[1]).toMatch(/^ARGON2_TIME_COST\b/);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.filter((line) => line.includes('PORT='))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('ARGON2_TIME_COST='))).toHaveLength(1);
  });

  it('says what an integer variable accepts', () => {
    const [problem] = configErrorOf({ PORT: '70000' }).problems;
    expect(problem).toBe('PORT="70000" is not an integer from 0 to 65535');
  });

  it('refuses integers written as fractions, exponents or hex', () => {
    for (const value of ['3000.5', '3e3', '0x10', '12abc']) {
      expect(configErrorOf({ PORT: value }).problems).toEqual([expect.stringMatching(/^PORT=/)]);
    }
  });

  it('refuses a boolean it cannot read', () => {
    expect(configErrorOf({ SEED_DEMO: 'maybe' }).problems).toEqual([expect.stringMatching(/^SEED_DEMO=/)]);
    expect(configErrorOf({ METRICS_ENABLED: 'sometimes' }).problems).toEqual(['METRICS_ENABLED="sometimes" is not a boolean (true/false)']);
  });

  it('turns the metrics endpoint off with METRICS_ENABLED=false', () => {
    expect(loadServiceConfig({ METRICS_ENABLED: 'false' }).metricsEnabled).toBe(false);
    expect(loadServiceConfig({ METRICS_ENABLED: 'on' }).metricsEnabled).toBe(true);
  });

  describe('the embedded database and the demo', () => {
    it('seeds the demo by default only on the embedded database outside production', () => {
      expect(loadServiceConfig({}).seedDemo).toBe(true);
      expect(loadServiceConfig({ NODE_ENV: 'test' }).seedDemo).toBe(true);
      expect(loadServiceConfig({ DATABASE_URL: 'postgres://db/auth' }).seedDemo).toBe(false);
      expect(loadServiceConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/auth' }).seedDemo).toBe(false);
      expect(loadServiceConfig({ NODE_ENV: 'production', ALLOW_EMBEDDED_DB: 'true' }).seedDemo).toBe(false);
    });

    it('seeds it on a server database when asked, outside production', () => {
      expect(loadServiceConfig({ DATABASE_URL: 'postgres://db/auth', SEED_DEMO: 'true' }).seedDemo).toBe(true);
      expect(loadServiceConfig({ SEED_DEMO: 'false' }).seedDemo).toBe(false);
    });

    it('refuses the demo in production, even when asked', () => {
      expect(configErrorOf({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/auth', SEED_DEMO: 'true' }).problems).toEqual([
        expect.stringMatching(/^SEED_DEMO=true is refused when NODE_ENV=production/),
      ]);
    });

    it('refuses the embedded database in production unless ALLOW_EMBEDDED_DB=true', () => {
      expect(configErrorOf({ NODE_ENV: 'production' }).problems).toEqual([
        expect.stringMatching(/^DATABASE_URL is required when NODE_ENV=production .*ALLOW_EMBEDDED_DB=true/),
      ]);
      expect(loadServiceConfig({ NODE_ENV: 'production', ALLOW_EMBEDDED_DB: 'true' })).toMatchObject({ databaseUrl: undefined, allowEmbeddedDb: true });
      expect(loadServiceConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/auth' }).databaseUrl).toBe('postgres://db/auth');
    });
  });

  describe('DATABASE_URL', () => {
    it('is refused when it is not a postgres URL, without echoing its password', () => {
      for (const url of ['mysql://auth:s3cr3t-pw@db/auth', 'postgres://auth:s3cr3t-pw@db:notaport/auth', 's3cr3t-pw']) {
        const error = configErrorOf({ DATABASE_URL: url });
        expect(error.problems).toEqual([expect.stringMatching(/^DATABASE_URL\b/)]);
        expect(error.message).not.toContain('s3cr3t-pw');
        expect(error.message).not.toContain(url);
      }
    });

    it('is never echoed when another variable is the bad one', () => {
      const error = configErrorOf({ DATABASE_URL: 'postgresql://auth:s3cr3t-pw@db/auth', PORT: 'abc' });
      expect(error.problems).toHaveLength(1);
      expect(error.message).not.toContain('s3cr3t-pw');
    });
  });

  describe('MASTER_KEY', () => {
    it('accepts 64 hex digits', () => {
      expect(loadServiceConfig({ MASTER_KEY: KEY_BYTES.toString('hex') }).masterKey).toEqual(KEY_BYTES);
      expect(loadServiceConfig({ MASTER_KEY: KEY_BYTES.toString('hex').toUpperCase() }).masterKey).toEqual(KEY_BYTES);
    });

    it('accepts base64 of 32 bytes', () => {
      expect(loadServiceConfig({ MASTER_KEY: KEY_BYTES.toString('base64') }).masterKey).toEqual(KEY_BYTES);
    });

    it('refuses other lengths without echoing the value', () => {
      const values = [
        KEY_BYTES.subarray(0, 31).toString('hex'),
        `${KEY_BYTES.toString('hex')}00`,
        KEY_BYTES.subarray(0, 31).toString('base64'),
        Buffer.concat([KEY_BYTES, Buffer.from([1])]).toString('base64'),
        'too-short',
      ];
      for (const value of values) {
        const error = configErrorOf({ MASTER_KEY: value });
        expect(error.problems).toEqual([expect.stringMatching(/^MASTER_KEY must be 32 bytes/)]);
        expect(error.message).not.toContain(value);
      }
    });

    it('refuses a value that carries anything besides the key (an inline comment, two keys pasted together)', () => {
      const key = KEY_BYTES.toString('base64');
      const other = Buffer.alloc(32, 7).toString('base64');
      for (const value of [`${key} # production key`, `${key}${other}`, `${key}!!`]) {
        const error = configErrorOf({ MASTER_KEY: value });
        expect(error.problems).toEqual([expect.stringMatching(/^MASTER_KEY must be 32 bytes/)]);
        expect(error.message).not.toContain(key);
      }
    });
  });

  describe('ERROR_HTTP_STATUS', () => {
    it("answers business errors with HTTP 200 by default, as the platform and its client SDKs expect", () => {
      expect(loadServiceConfig({}).errorHttpStatus).toBe('always-200');
      expect(loadServiceConfig({ ERROR_HTTP_STATUS: ' ' }).errorHttpStatus).toBe('always-200');
    });

    it("accepts 'mirror' and '200'", () => {
      expect(loadServiceConfig({ ERROR_HTTP_STATUS: 'mirror' }).errorHttpStatus).toBe('mirror');
      expect(loadServiceConfig({ ERROR_HTTP_STATUS: '200' }).errorHttpStatus).toBe('always-200');
    });

    it('refuses anything else, naming the variable', () => {
      for (const value of ['always-200', '500', 'true', 'toString']) {
        expect(configErrorOf({ ERROR_HTTP_STATUS: value }).problems).toEqual([
          `ERROR_HTTP_STATUS="${value}" is not one of: 200, mirror`,
        ]);
      }
    });
  });

  describe('the URLs GET /app_dns hands the SDKs', () => {
    it('defaults PUBLIC_URL to localhost on PORT', () => {
      expect(loadServiceConfig({ PORT: '8080' }).sdkDiscovery.publicUrl).toBe('http://localhost:8080');
    });

    it('reads PUBLIC_URL and the comma-separated WEBIM_URLS and RTC_URLS, without trailing slashes', () => {
      const config = loadServiceConfig({
        PUBLIC_URL: 'https://chat.example.com/auth/',
        WEBIM_URLS: 'https://im1.example.com, https://im2.example.com:8443/',
        RTC_URLS: 'https://rtc.example.com',
      });
      expect(config.sdkDiscovery).toEqual({
        publicUrl: 'https://chat.example.com/auth',
        webimUrls: ['https://im1.example.com', 'https://im2.example.com:8443'],
        rtcUrls: ['https://rtc.example.com'],
      });
    });

    it('refuses what is not a plain http(s) URL, and more than one PUBLIC_URL, naming the variable', () => {
      for (const [name, value] of [
        ['PUBLIC_URL', 'chat.example.com'],
        ['PUBLIC_URL', 'https://a.example.com,https://b.example.com'],
        ['WEBIM_URLS', 'wss://im.example.com'],
        ['RTC_URLS', 'https://user:pw@rtc.example.com'],
        ['RTC_URLS', 'https://rtc.example.com/?x=1'],
      ]) {
        expect(configErrorOf({ [name]: value }).problems).toEqual([expect.stringMatching(new RegExp(`^${name}\\b`))]);
      }
    });
  });
});

describe('.env.example', () => {
  const assignments = readFileSync(resolve(__dirname, '../../../.env.example'), 'utf8')
    .split('\n')
    .map((line) => /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, commented, name, value]) => ({ name, value, commented: commented !== undefined }));

  it('lists every variable the configuration reads, once', () => {
    const read = new Set<string>();
    const recorder = new Proxy({} as Env, {
      get: (_env, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    loadServiceConfig(recorder);
    expect(assignments.map(({ name }) => name).sort()).toEqual([...read].sort());
  });

  it('sets each variable to its default', () => {
    const env = Object.fromEntries(assignments.filter(({ commented }) => !commented).map(({ name, value }) => [name, value]));
    expect(loadServiceConfig(env)).toEqual(loadServiceConfig({}));
  });
});
