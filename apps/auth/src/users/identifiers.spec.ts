/**
 * The identifier rules: usernames follow the reference platform's rule (plus NFKC and a
 * case-insensitive key), emails are lower-cased, mobiles end up in E.164, and a login name is
 * classified by its shape.
 */
import { checkEmail, checkMobile, checkUsername, classifyLoginName, USERNAME_MAX_LENGTH, usernameKey } from './identifiers';

const PLATFORM_PREFIXES = ['maxim', 'mta'];

function accepted(raw: string, prefixes: readonly string[] = PLATFORM_PREFIXES) {
  const checked = checkUsername(raw, prefixes);
  if (!checked.ok) throw new Error(`expected ${JSON.stringify(raw)} to be accepted, got: ${checked.reason}`);
  return checked.value;
}

function refusal(raw: string, prefixes: readonly string[] = PLATFORM_PREFIXES): string {
  const checked = checkUsername(raw, prefixes);
  if (checked.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused, got ${JSON.stringify(checked.value)}`);
  return checked.reason;
}

describe('checkUsername', () => {
  it('accepts ASCII letters, digits and underscore, keeping the case for display and lower-casing the key', () => {
    expect(accepted('Alice_01')).toEqual({ username: 'Alice_01', key: 'alice_01' });
  });

  it('accepts CJK ideographs mixed with ASCII', () => {
    expect(accepted('张三_01')).toEqual({ username: '张三_01', key: '张三_01' });
    expect(accepted('李四')).toEqual({ username: '李四', key: '李四' });
  });

  it('normalizes full-width letters and digits to ASCII (NFKC) before checking and storing', () => {
    expect(accepted('ＡＬＩＣＥ＿０１')).toEqual({ username: 'ALICE_01', key: 'alice_01' });
  });

  it('gives names that differ only in case or width the same key', () => {
    expect(accepted('Alice').key).toBe(accepted('aLiCe').key);
    expect(accepted('ａｌｉｃｅ').key).toBe(accepted('ALICE').key);
  });

  it('refuses a name that is all digits, also when the digits are full-width', () => {
    expect(refusal('12345')).toMatch(/all digits/);
    expect(refusal('１２３４５')).toMatch(/all digits/);
  });

  it('accepts digits once there is anything else in the name', () => {
    expect(accepted('123_')).toEqual({ username: '123_', key: '123_' });
    expect(accepted('abc123').key).toBe('abc123');
  });

  it('refuses @ so that a username can never be read as an email', () => {
    expect(refusal('alice@example')).toMatch(/@/);
    expect(refusal('alice＠example')).toMatch(/@/); // full-width @ becomes @ under NFKC
  });

  it('accepts exactly 64 code points and refuses 65', () => {
    expect(USERNAME_MAX_LENGTH).toBe(64);
    expect(accepted('a'.repeat(64)).username).toHaveLength(64);
    expect(refusal('a'.repeat(65))).toMatch(/at most 64/);
  });

  it('counts the length in code points, so 64 astral-plane ideographs fit', () => {
    const astralHan = '\u{20000}'; // CJK Extension B, two UTF-16 units
    expect(accepted(astralHan.repeat(64)).username).toBe(astralHan.repeat(64));
    expect(refusal(astralHan.repeat(65))).toMatch(/at most 64/);
  });

  it('refuses an empty name', () => {
    expect(refusal('')).toMatch(/empty/);
  });

  it('refuses reserved prefixes whatever their case or width', () => {
    expect(refusal('maxim_bot')).toMatch(/maxim/);
    expect(refusal('MaximBot')).toMatch(/maxim/);
    expect(refusal('ＭＴＡ_admin')).toMatch(/mta/);
  });

  it('compares reserved prefixes case-insensitively when they are configured in upper case', () => {
    expect(refusal('system_1', ['SYSTEM'])).toMatch(/SYSTEM/);
  });

  it('accepts a name that only contains a reserved prefix further in', () => {
    expect(accepted('the_maxim').key).toBe('the_maxim');
  });

  it('ignores an empty reserved prefix instead of refusing every name', () => {
    expect(accepted('alice', ['']).key).toBe('alice');
  });

  it('refuses Cyrillic and Greek look-alikes of Latin letters', () => {
    expect(refusal('\u0430lice')).toMatch(/only letters, digits, underscore/); // Cyrillic а
    expect(refusal('\u0410LICE')).toMatch(/only letters, digits, underscore/); // Cyrillic А
    expect(refusal('\u03bfscar')).toMatch(/only letters, digits, underscore/); // Greek ο
    expect(refusal('\u0391lpha')).toMatch(/only letters, digits, underscore/); // Greek Α
  });

  it('refuses emoji', () => {
    expect(refusal('alice😀')).toMatch(/only letters, digits, underscore/);
    expect(refusal('👍')).toMatch(/only letters, digits, underscore/);
  });

  it('refuses spaces, punctuation and accented letters', () => {
    for (const name of ['alice smith', ' alice', 'alice-smith', 'alice.smith', 'café', 'ß_1', 'カタカナ']) {
      expect(refusal(name)).toMatch(/only letters, digits, underscore/);
    }
  });
});

describe('usernameKey', () => {
  it('is the NFKC form, lower-cased', () => {
    expect(usernameKey('ＡＬＩＣＥ_01')).toBe('alice_01');
    expect(usernameKey('张三_AB')).toBe('张三_ab');
  });
});

describe('checkEmail', () => {
  it('lower-cases the whole address', () => {
    expect(checkEmail('Alice@Example.COM')).toEqual({ ok: true, value: 'alice@example.com' });
  });

  it('trims surrounding spaces and normalizes full-width characters', () => {
    expect(checkEmail('  bob@example.org ')).toEqual({ ok: true, value: 'bob@example.org' });
    expect(checkEmail('ｂｏｂ＠ｅｘａｍｐｌｅ．ｏｒｇ')).toEqual({ ok: true, value: 'bob@example.org' });
  });

  it('refuses addresses without a local part, a domain or a dot in the domain', () => {
    for (const address of ['', 'alice', '@example.com', 'alice@', 'alice@example', 'a b@example.com', 'a@b@example.com']) {
      expect(checkEmail(address)).toEqual({ ok: false, reason: 'email is not a valid email address' });
    }
  });

  it('refuses an address longer than 254 characters', () => {
    const local = 'a'.repeat(64);
    const domain = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`;
    const tooLong = `${local}@${domain}`;
    expect(tooLong.length).toBeGreaterThan(254);
    expect(checkEmail(tooLong).ok).toBe(false);
  });
});

describe('checkMobile', () => {
  it('keeps an international number in E.164, whatever the separators', () => {
    expect(checkMobile('+8613800138000', null)).toEqual({ ok: true, value: '+8613800138000' });
    expect(checkMobile('+86 138-0013-8000', null)).toEqual({ ok: true, value: '+8613800138000' });
    expect(checkMobile('+1 (650) 253-0000', null)).toEqual({ ok: true, value: '+16502530000' });
  });

  it("reads a national number in the app's default region", () => {
    expect(checkMobile('13800138000', 'CN')).toEqual({ ok: true, value: '+8613800138000' });
    expect(checkMobile('138 0013 8000', 'CN')).toEqual({ ok: true, value: '+8613800138000' });
    expect(checkMobile('(650) 253-0000', 'US')).toEqual({ ok: true, value: '+16502530000' });
  });

  it('refuses a national number when the app has no default region', () => {
    expect(checkMobile('13800138000', null)).toEqual({ ok: false, reason: expect.stringMatching(/\+country/) });
  });

  it('keeps the country of an international number even when the default region differs', () => {
    expect(checkMobile('+44 20 7946 0958', 'CN')).toEqual({ ok: true, value: '+442079460958' });
  });

  it('normalizes full-width digits', () => {
    expect(checkMobile('１３８００１３８０００', 'CN')).toEqual({ ok: true, value: '+8613800138000' });
  });

  it('refuses numbers that are not valid phone numbers', () => {
    for (const [raw, region] of [
      ['+86123', null],
      ['12345', 'CN'],
      ['+8612345678901234', null],
      ['not a phone', 'CN'],
      ['+86 138 0013 800a', null],
      ['', 'CN'],
    ] as const) {
      expect(checkMobile(raw, region).ok).toBe(false);
    }
  });
});

describe('classifyLoginName', () => {
  it('reads anything with @ as an email, lower-cased', () => {
    expect(classifyLoginName('Alice@Example.COM', 'CN')).toEqual({ kind: 'email', address: 'alice@example.com' });
  });

  it('reads a valid phone number as a mobile in E.164', () => {
    expect(classifyLoginName('+8613800138000', null)).toEqual({ kind: 'mobile', e164: '+8613800138000' });
    expect(classifyLoginName('13800138000', 'CN')).toEqual({ kind: 'mobile', e164: '+8613800138000' });
  });

  it('reads a national number as a username key when the app has no default region', () => {
    expect(classifyLoginName('13800138000', null)).toEqual({ kind: 'username', key: '13800138000' });
  });

  it('reads anything else as a username key: NFKC, lower-cased', () => {
    expect(classifyLoginName('Alice_01', 'CN')).toEqual({ kind: 'username', key: 'alice_01' });
    expect(classifyLoginName('ＡＬＩＣＥ', null)).toEqual({ kind: 'username', key: 'alice' });
    expect(classifyLoginName('张三_01', 'CN')).toEqual({ kind: 'username', key: '张三_01' });
  });

  it('keeps a username with digits in it a username', () => {
    expect(classifyLoginName('abc123', 'CN')).toEqual({ kind: 'username', key: 'abc123' });
    expect(classifyLoginName('13800138000a', 'CN')).toEqual({ kind: 'username', key: '13800138000a' });
  });

  it('trims surrounding spaces', () => {
    expect(classifyLoginName('  Alice_01 ', 'CN')).toEqual({ kind: 'username', key: 'alice_01' });
    expect(classifyLoginName(' bob@example.org ', 'CN')).toEqual({ kind: 'email', address: 'bob@example.org' });
  });
});
