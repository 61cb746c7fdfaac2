/**
 * The three login strategies: each is registered with Passport under the name its route's
 * AuthGuard asks for, reads its identity field, and turns the validated body into one
 * CredentialsVerifier look-up. The verifier is faked here: the strategy is the unit under test.
 */
import passport from 'passport';
import { ApiError } from '@app/contract';
import { IdStrategy, LoginNameStrategy, UsernameStrategy } from './login.strategies';

const TENANT = { id: 'app1', defaultRegion: 'CN' };
const USER = { id: 2302128618880, appId: 'app1' };
const PASSWORD = 'correct horse battery';

class FakeVerifier {
  readonly calls: { app: unknown; lookup: unknown; password: string }[] = [];
  private outcome: () => Promise<unknown> = () => Promise.resolve(USER);

  verify(app: unknown, lookup: unknown, password: string): Promise<unknown> {
    this.calls.push({ app, lookup, password });
    return this.outcome();
  }

  rejectWith(error: Error): this {
    this.outcome = () => Promise.reject(error);
    return this;
  }
}

function requestWith(body: Record<string, unknown>, tenant: object = TENANT) {
  return { body, tenant } as never;
}

function requestWithoutTenant(body: Record<string, unknown>) {
  return { body } as never;
}

/** The strategy Passport would hand to `AuthGuard(name)`. */
function registered(name: string): unknown {
  return (passport as unknown as { _strategy(name: string): unknown })._strategy(name);
}

describe.each([
  { Strategy: IdStrategy, name: 'id', usernameField: 'user_id' },
  { Strategy: LoginNameStrategy, name: 'login-name', usernameField: 'login_name' },
  { Strategy: UsernameStrategy, name: 'username', usernameField: 'identity' },
])('$Strategy.name', ({ Strategy, name, usernameField }) => {
  it(`registers with Passport as '${name}'`, () => {
    const strategy = new Strategy(new FakeVerifier() as never);
    expect(registered(name)).toBe(strategy);
  });

  it(`reads the identity from '${usernameField}' and the password from 'password', passing the request on`, () => {
    const strategy = new Strategy(new FakeVerifier() as never) as unknown as Record<string, unknown>;
    expect(strategy._usernameField).toBe(usernameField);
    expect(strategy._passwordField).toBe('password');
    expect(strategy._passReqToCallback).toBe(true);
  });

  it('passes on the verifier’s rejection', async () => {
    const verifier = new FakeVerifier().rejectWith(new ApiError('WRONG_CREDENTIALS'));
    const strategy = new Strategy(verifier as never);
    const body = { user_id: 42, login_name: 'alice', name: 'alice', password: 'wrong' };
    await expect(strategy.validate(requestWith(body))).rejects.toThrow(new ApiError('WRONG_CREDENTIALS'));
    await expect(strategy.validate(requestWith(body))).rejects.toMatchObject({ errorName: 'WRONG_CREDENTIALS' });
    expect(verifier.calls).toHaveLength(2);
  });

  it('passes on a banned user’s rejection unchanged', async () => {
    const verifier = new FakeVerifier().rejectWith(new ApiError('USER_BANNED'));
    const strategy = new Strategy(verifier as never);
    const body = { user_id: 42, login_name: 'alice', name: 'alice', password: PASSWORD };
    await expect(strategy.validate(requestWith(body))).rejects.toMatchObject({ errorName: 'USER_BANNED' });
  });

  it('refuses to run before AppGuard resolved the app', () => {
    const verifier = new FakeVerifier();
    const strategy = new Strategy(verifier as never);
    const body = { user_id: 42, login_name: 'alice', name: 'alice', password: PASSWORD };
    expect(() => strategy.validate(requestWithoutTenant(body))).toThrow(/before AppGuard/);
    expect(verifier.calls).toHaveLength(0);
  });
});

describe('IdStrategy', () => {
  it('looks the user up by id, in the request’s app, with the given password', async () => {
    const verifier = new FakeVerifier();
    const strategy = new IdStrategy(verifier as never);
    await expect(strategy.validate(requestWith({ user_id: 2302128618880, password: PASSWORD }))).resolves.toBe(USER);
    expect(verifier.calls).toEqual([{ app: TENANT, lookup: { kind: 'id', id: 2302128618880 }, password: PASSWORD }]);
  });
});

describe('LoginNameStrategy', () => {
  async function lookupFor(loginName: string, tenant: object = TENANT): Promise<unknown> {
    const verifier = new FakeVerifier();
    const strategy = new LoginNameStrategy(verifier as never);
    await expect(strategy.validate(requestWith({ login_name: loginName, password: PASSWORD }, tenant))).resolves.toBe(USER);
    expect(verifier.calls).toHaveLength(1);
    expect(verifier.calls[0].app).toBe(tenant);
    expect(verifier.calls[0].password).toBe(PASSWORD);
    return verifier.calls[0].lookup;
  }

  it('looks an email up lower-cased', async () => {
    expect(await lookupFor('Alice@Example.COM')).toEqual({ kind: 'email', address: 'alice@example.com' });
  });

  it('looks a national mobile number up in E.164, read in the app’s default region', async () => {
    expect(await lookupFor('13800138000')).toEqual({ kind: 'mobile', e164: '+8613800138000' });
    expect(await lookupFor('(650) 253-0000', { id: 'app2', defaultRegion: 'US' })).toEqual({ kind: 'mobile', e164: '+16502530000' });
  });

  it('looks a national number up as a username when the app has no default region', async () => {
    expect(await lookupFor('13800138000', { id: 'app3', defaultRegion: null })).toEqual({ kind: 'username', key: '13800138000' });
  });

  it('looks an international mobile number up whatever the default region', async () => {
    expect(await lookupFor('+86 138 0013 8000', { id: 'app3', defaultRegion: null })).toEqual({ kind: 'mobile', e164: '+8613800138000' });
  });

  it('looks anything else up as a username key, NFKC lower-cased', async () => {
    expect(await lookupFor('Alice_01')).toEqual({ kind: 'username', key: 'alice_01' });
    expect(await lookupFor('ＡＬＩＣＥ_01')).toEqual({ kind: 'username', key: 'alice_01' });
    expect(await lookupFor('abc123')).toEqual({ kind: 'username', key: 'abc123' });
  });
});

describe('UsernameStrategy', () => {
  it('looks the user up by username key, NFKC lower-cased', async () => {
    const verifier = new FakeVerifier();
    const strategy = new UsernameStrategy(verifier as never);
    await expect(strategy.validate(requestWith({ name: 'ＡＬＩＣＥ_01', password: PASSWORD }))).resolves.toBe(USER);
    await expect(strategy.validate(requestWith({ name: '张三_AB', password: PASSWORD }))).resolves.toBe(USER);
    expect(verifier.calls).toEqual([
      { app: TENANT, lookup: { kind: 'username', key: 'alice_01' }, password: PASSWORD },
      { app: TENANT, lookup: { kind: 'username', key: '张三_ab' }, password: PASSWORD },
    ]);
  });

  it('looks a mobile number up in E.164, read in the app’s default region as /token/login does', async () => {
    const verifier = new FakeVerifier();
    const strategy = new UsernameStrategy(verifier as never);
    await strategy.validate(requestWith({ mobile: '138 0013 8000', password: PASSWORD }));
    await strategy.validate(requestWith({ mobile: '+1 650 253 0000', password: PASSWORD }));
    expect(verifier.calls.map((call) => call.lookup)).toEqual([
      { kind: 'mobile', e164: '+8613800138000' },
      { kind: 'mobile', e164: '+16502530000' },
    ]);
  });

  it('answers 10002 for a mobile that is no phone number, without asking the verifier', () => {
    const verifier = new FakeVerifier();
    const strategy = new UsernameStrategy(verifier as never);
    expect(() => strategy.validate(requestWith({ mobile: '13800138000', password: PASSWORD }, { id: 'app3', defaultRegion: null }))).toThrow(
      expect.objectContaining({ errorName: 'BAD_PARAMETER', message: expect.stringMatching(/mobile/) }),
    );
    expect(() => strategy.validate(requestWith({ mobile: 'alice_01', password: PASSWORD }))).toThrow(expect.objectContaining({ errorName: 'BAD_PARAMETER' }));
    expect(verifier.calls).toHaveLength(0);
  });

  it('never reads a username as a mobile or an email', async () => {
    const verifier = new FakeVerifier();
    const strategy = new UsernameStrategy(verifier as never);
    await strategy.validate(requestWith({ name: '13800138000', password: PASSWORD }));
    expect(verifier.calls[0].lookup).toEqual({ kind: 'username', key: '13800138000' });
  });
});
