import { fork, type ChildProcess } from 'child_process';
import type { ChildMessage, ParentMessage } from './runner-protocol';

/** The parent's side of runner.ts: one request at a time, each answered by exactly one message. */
export class RunnerChild {
  private pending?: { resolve: (m: ChildMessage) => void; reject: (e: Error) => void };
  private readonly queue: ChildMessage[] = [];
  private stderrTail = '';
  /** The child's recent stdout lines (the functions' JSON log). */
  readonly logLines: string[] = [];
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: ChildMessage) => {
      const waiter = this.pending;
      this.pending = undefined;
      if (waiter) waiter.resolve(message);
      else this.queue.push(message);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    // The bundles log one JSON line per event on stdout; keep the last few for diagnostics.
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      this.logLines.push(...lines.filter(Boolean));
      if (this.logLines.length > 200) this.logLines.splice(0, this.logLines.length - 200);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.pending?.reject(
        new Error(`runner exited (${code ?? signal}) while busy: ${this.stderrTail.trim().slice(-1500)}`),
      );
      this.pending = undefined;
    });
  }

  /** Starts the runner and waits for its first message. */
  static async start(
    runner: string,
    env: Record<string, string>,
    execArgv: string[] = [],
  ): Promise<{ child: RunnerChild; started: ChildMessage }> {
    const proc = fork(runner, [], { env, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const child = new RunnerChild(proc);
    const started = await child.next();
    return { child, started };
  }

  private next(): Promise<ChildMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exited) return Promise.reject(new Error(`runner has exited: ${this.stderrTail.slice(-1500)}`));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }

  async request<K extends ChildMessage['op']>(
    message: ParentMessage,
    expect: K,
  ): Promise<Extract<ChildMessage, { op: K }>> {
    this.child.send(message);
    const answer = await this.next();
    if (answer.op === 'failed') throw new Error(`runner failed: ${answer.error}`);
    if (answer.op !== expect) throw new Error(`runner answered ${answer.op}, expected ${expect}`);
    return answer as Extract<ChildMessage, { op: K }>;
  }

  /** Asks the runner to exit and returns its last figures (its peak RSS over its whole life). */
  async close(): Promise<Extract<ChildMessage, { op: 'exiting' }>> {
    const last = await this.request({ op: 'exit' }, 'exiting');
    await new Promise<void>((resolve) => {
      if (this.exited) resolve();
      else this.child.once('exit', () => resolve());
    });
    return last;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
