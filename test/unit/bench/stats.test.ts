import {
  check,
  cosTarget,
  median,
  percentile,
  positiveIntEnv,
  summarize,
  table,
} from '../../../scripts/bench/stats';

describe('bench stats', () => {
  it('takes nearest-rank percentiles of unsorted samples', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];

    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 95)).toBe(10);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile([], 99)).toBeNaN();
  });

  it('takes the median of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('summarizes without sorting the caller’s array', () => {
    const samples = [3, 1, 2];

    const summary = summarize(samples);

    expect(summary).toEqual({ count: 3, p50: 2, p95: 3, p99: 3, max: 3 });
    expect(samples).toEqual([3, 1, 2]);
    expect(summarize([]).max).toBeNaN();
  });

  it('allows two COS requests plus one list page per 1000 recipients', () => {
    expect(cosTarget(100)).toBe(3);
    expect(cosTarget(1000)).toBe(3);
    expect(cosTarget(1001)).toBe(4);
    expect(cosTarget(10_000)).toBe(12);
  });

  it('checks a figure against its target, and says n/a when it was not measured', () => {
    expect(check(400, '<=', 500)).toBe('PASS');
    expect(check(501, '<=', 500)).toBe('MISS');
    expect(check(128, '<', 128)).toBe('MISS');
    expect(check(0, '==', 0)).toBe('PASS');
    expect(check(undefined, '>=', 10)).toBe('n/a');
    expect(check(Number.NaN, '>=', 10)).toBe('n/a');
  });

  it('pads table columns and right-aligns numbers', () => {
    const text = table(
      ['name', 'ms'],
      [
        ['a', '5'],
        ['longer', '1234 ms'],
      ],
    );

    expect(text.split('\n')).toEqual(['name    ms', '------  -------', 'a             5', 'longer  1234 ms']);
  });
});

describe('positiveIntEnv', () => {
  const NAME = 'BENCH_TEST_POSITIVE_INT';
  afterEach(() => delete process.env[NAME]);

  it('reads a whole number, and falls back when the variable is unset or empty', () => {
    expect(positiveIntEnv(NAME, 7)).toBe(7);
    process.env[NAME] = '';
    expect(positiveIntEnv(NAME, 7)).toBe(7);
    process.env[NAME] = '250';
    expect(positiveIntEnv(NAME, 7)).toBe(250);
  });

  it('refuses zero, fractions and words', () => {
    for (const bad of ['0', '-3', '1.5', 'many']) {
      process.env[NAME] = bad;
      expect(() => positiveIntEnv(NAME, 7)).toThrow(`${NAME} must be a positive integer`);
    }
  });
});
