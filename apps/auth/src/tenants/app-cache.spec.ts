/** The app cache on its own: what it keeps, for how long, and how many. */
import { AppCache } from './app-cache';
import type { AppEntity } from './app.entity';

const app = (id: string) => ({ id }) as AppEntity;

describe('AppCache', () => {
  let clock = 0;
  const cache = () => new AppCache(5_000, 3, () => clock);

  beforeEach(() => (clock = 1_000_000));

  it('keeps an app for its lifetime, then forgets it', () => {
    const apps = cache();
    apps.set(app('a'));
    clock += 4_999;
    expect(apps.get('a')?.id).toBe('a');
    clock += 1;
    expect(apps.get('a')).toBeUndefined();
    expect(apps.size).toBe(0);
  });

  it('never holds more than its capacity: the least recently used app goes first', () => {
    const apps = cache();
    for (const id of ['a', 'b', 'c']) apps.set(app(id));
    expect(apps.get('a')?.id).toBe('a'); // now the most recently used
    apps.set(app('d'));
    expect(apps.size).toBe(3);
    expect(apps.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((id) => apps.get(id)?.id)).toEqual(['a', 'c', 'd']);
    for (let i = 0; i < 1000; i++) apps.set(app(`x${i}`));
    expect(apps.size).toBe(3);
  });

  it('forgets an app on delete', () => {
    const apps = cache();
    apps.set(app('a'));
    apps.delete('a');
    expect(apps.get('a')).toBeUndefined();
  });
});
