import { coresBusy, cpuByProcess, cpuPerUnit, cpuWindow, stealOf } from '../../../scripts/bench/cpu-monitor';

describe('coresBusy', () => {
  it('turns CPU per unit into cores: 2 ms for each of 1,000 units over one second is two cores', () => {
    expect(coresBusy({ stack: 1.5, register: 0.5 }, 1000, 1)).toBeCloseTo(2);
    expect(coresBusy({ stack: 1 }, 100, 0.5)).toBeCloseTo(0.2);
  });

  it('has no figure without readings or without time', () => {
    expect(coresBusy({}, 1000, 1)).toBeNaN();
    expect(coresBusy({ stack: 1 }, 1000, 0)).toBeNaN();
  });
});

// Linux's /proc, as the bench itself needs (CI and the project's machines are Linux).
describe('cpuPerUnit (reads /proc)', () => {
  it("charges this process's own CPU to 'stack', divided by the units of work", () => {
    const before = cpuByProcess();
    // Burn at least 200 ms of this process's CPU, however busy the machine is.
    const start = process.cpuUsage();
    while (process.cpuUsage(start).user < 200_000);

    const per = cpuPerUnit(before, 4);

    // 200 ms over 4 units is 50 ms each; /proc counts in 10 ms ticks, so allow one tick of rounding per reading.
    expect(per.stack).toBeGreaterThanOrEqual(45);
    expect(per.stack).toBeLessThan(200);
  });
});

describe('steal', () => {
  it("reads the stolen ticks and the machine's total from /proc/stat's cpu line (guest time is inside user)", () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    expect(stealOf([700, 0, 100, 150, 0, 10, 10, 30, 500, 0])).toEqual({ machineTotal: 1000, stolen: 30 });
  });

  it('gives a window a stolen share between 0 and 1 (Linux)', () => {
    const close = cpuWindow();
    const start = process.cpuUsage();
    while (process.cpuUsage(start).user < 50_000);
    const { stolenShare } = close();
    expect(stolenShare).toBeGreaterThanOrEqual(0);
    expect(stolenShare).toBeLessThan(1);
  });
});
