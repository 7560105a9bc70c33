// `trr dap`: a Debug Adapter Protocol server (on stdin/stdout) that lets VS
// Code debug a recording forwards and backwards. It starts trr's gdbserver
// for the trace exactly as `trr replay -s PORT` does (a child process on
// loopback) and drives a real gdb through MI, as cdt-gdb-adapter does: DAP
// requests become MI commands, reverse ones their `--reverse` forms, and
// gdb's `*stopped` records become stopped events that say which trr event
// the replay stands at (`monitor when`).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Handles, InitializedEvent, LoggingDebugSession, OutputEvent, Scope, StoppedEvent, TerminatedEvent, Thread } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { GdbMi, type MiResult } from './gdb-mi.js';
import { list, miQuote, str, tuple, type MiTuple } from './mi.js';
import { GENERAL_REGISTERS } from '../arch/register-file.js';

export interface TrrLaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** Trace directory (or a trace name in the trace directory). */
  trace?: string;
  /** The trr to run (default: the one this adapter belongs to). */
  trr?: string;
  trrPath?: string;
  /** The gdb to run (default: gdb on PATH). */
  gdb?: string;
  /** Stay at the start of the recording after launch (default true); false continues to the first breakpoint. */
  stopOnEntry?: boolean;
}

type VarRef =
  | { readonly kind: 'locals' | 'args' | 'registers'; readonly thread: number; readonly level: number }
  /** The global and static variables of a frame's source file. */
  | { readonly kind: 'statics'; readonly thread: number; readonly level: number; readonly file: string }
  | { readonly kind: 'varobj'; readonly name: string; readonly thread: number; readonly level: number };

const ownTrr = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'trr');

/** The registers shown in the Registers scope: the general ones, as src/arch names them. */
const GP_REGISTERS = new Set(GENERAL_REGISTERS);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A failure to tell the user in one paragraph. */
class LaunchError extends Error {}

export class TrrDebugSession extends LoggingDebugSession {
  private gdb: GdbMi | undefined;
  private server: ChildProcess | undefined;
  private readonly frames = new Handles<{ thread: number; level: number; file?: string }>();
  private readonly vars = new Handles<VarRef>();
  private varobjs: string[] = [];
  private configured!: () => void;
  private readonly configurationDone = new Promise<void>((resolve) => (this.configured = resolve));
  /** Breakpoint numbers per source path, function breakpoints, data breakpoints. */
  private readonly sourceBreakpoints = new Map<string, string[]>();
  private functionBreakpoints: string[] = [];
  private dataBreakpoints: string[] = [];
  private lastDirection: 'forward' | 'reverse' = 'forward';
  private currentThread = 1;
  private terminated = false;
  private ending = false;
  /** Stops are reported once the launch is configured (the one on connecting is the entry). */
  private launched = false;
  /** A pause was asked for: the SIGINT stop that follows is that pause. */
  private pausing = false;
  private running = false;
  private stoppedOnce: (() => void) | undefined;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsConditionalBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsSetVariable: true,
      supportsTerminateRequest: true,
    };
    this.sendResponse(response);
  }

  protected configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.configured();
  }

  private say(text: string, category: 'console' | 'stdout' | 'stderr' | 'important' = 'console'): void {
    this.sendEvent(new OutputEvent(text.endsWith('\n') ? text : text + '\n', category));
  }

  /** Starts `trr replay -s PORT TRACE`; resolves with what gdb needs to connect. */
  private async startServer(args: TrrLaunchArguments): Promise<{ port: number; sysroot: string; exe: string }> {
    const trr = args.trr ?? args.trrPath;
    const port = await freePort();
    const serverArgs = ['replay', '-s', String(port), ...(args.trace ? [args.trace] : [])];
    const proc = trr ? spawn(trr, serverArgs, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(process.execPath, [ownTrr, ...serverArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.server = proc;
    let stderr = '';
    return new Promise((resolve, reject) => {
      let connected = false;
      proc.stdout!.on('data', (d: Buffer) => this.say(d.toString(), 'stdout'));
      proc.stderr!.on('data', (d: Buffer) => {
        const text = d.toString();
        if (connected) {
          // The replay's own messages (checkpoints, warnings): shown, without trr's connection help.
          this.say(text, 'stderr');
          return;
        }
        stderr += text;
        const m = /gdb -ex 'set sysroot (.*?)' -ex 'target extended-remote 127\.0\.0\.1:(\d+)' (.*)\n/.exec(stderr);
        if (m) {
          connected = true;
          const before = stderr.slice(0, stderr.indexOf('trr: serving the replay'));
          if (before.trim()) this.say(before, 'stderr');
          resolve({ sysroot: m[1]!, port: Number(m[2]), exe: m[3]! });
        }
      });
      proc.once('error', (e) => reject(new LaunchError(`cannot start trr (${trr ?? ownTrr}): ${e.message}. Set "trrPath" in the launch configuration to trr's path.`)));
      proc.once('exit', (code, sig) => {
        if (!connected) reject(new LaunchError(stderr.trim().replace(/^trr: /, '') || `trr replay exited with status ${code ?? sig} before serving the replay.`));
        else if (!this.ending) this.end();
      });
    });
  }

  protected async launchRequest(response: DebugProtocol.LaunchResponse, args: TrrLaunchArguments): Promise<void> {
    try {
      let served: { port: number; sysroot: string; exe: string } | undefined;
      for (let attempt = 1; !served; attempt++) {
        try {
          served = await this.startServer(args);
        } catch (e) {
          // The free port was taken between our look and trr's listen: another one.
          if (!(e instanceof LaunchError && /EADDRINUSE|address already in use/i.test(e.message)) || attempt >= 3) throw e;
        }
      }
      const { port, sysroot, exe } = served;
      const gdb = new GdbMi(args.gdb ?? 'gdb', []);
      this.gdb = gdb;
      try {
        await gdb.started;
      } catch (e) {
        throw new LaunchError(`cannot start the debugger ${args.gdb ?? 'gdb'}: ${(e as Error).message}. Install gdb, or name one with "gdb" in the launch configuration.`);
      }
      gdb.on('exec', (cls, r) => void this.onExec(cls, r));
      gdb.on('output', (text, stream) => this.say(text, stream === 'target' ? 'stdout' : 'console'));
      gdb.on('exit', () => this.end());
      await gdb.command('-gdb-set mi-async on');
      await gdb.command('-gdb-set pagination off');
      await gdb.command('-gdb-set confirm off');
      await gdb.command(`-gdb-set sysroot ${sysroot}`); // as a word: -gdb-set would keep quotes
      await gdb.command(`-file-exec-and-symbols ${miQuote(exe)}`);
      await gdb.command(`-target-select extended-remote 127.0.0.1:${port}`);
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
      await this.configurationDone;
      this.launched = true;
      if (args.stopOnEntry === false) {
        this.lastDirection = 'forward';
        await gdb.command('-exec-continue');
      } else {
        await this.reportStop('entry', 'the start of the recording');
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.sendErrorResponse(response, { id: 1, format: `trr: ${msg}`.replace(/\{/g, '(').replace(/\}/g, ')'), showUser: true });
      await this.stopReplay();
    }
  }

  /** The replay's position as trr numbers events (`monitor when`). */
  private async when(): Promise<number | undefined> {
    try {
      const r = await this.gdb!.command(`-interpreter-exec console ${miQuote('monitor when')}`);
      const m = /Current event: (\d+)/.exec(r.output);
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  private async reportStop(reason: string, what: string, threadId = this.currentThread, text?: string): Promise<void> {
    this.frames.reset();
    this.vars.reset();
    const event = await this.when();
    const where = event === undefined ? what : `${what}, at event ${event}`;
    this.say(`trr: stopped at ${where}`);
    const stopped = new StoppedEvent(reason, threadId, text) as DebugProtocol.StoppedEvent;
    stopped.body.description = where[0]!.toUpperCase() + where.slice(1);
    stopped.body.allThreadsStopped = true;
    this.sendEvent(stopped);
  }

  private async onExec(cls: string, r: MiTuple): Promise<void> {
    if (cls === 'running') this.running = true;
    if (cls !== 'stopped') return;
    this.running = false;
    this.stoppedOnce?.();
    if (!this.launched || this.ending) return;
    await this.dropVarobjs();
    const thread = Number(str(r['thread-id']) ?? this.currentThread);
    if (Number.isInteger(thread)) this.currentThread = thread;
    // gdb 13 reports the end of a replay's history with a console message and a stop without a reason.
    const reason = str(r.reason) ?? (/No more reverse-execution history/.test(this.gdb?.recent ?? '') ? 'no-history' : '');
    const paused = this.pausing;
    this.pausing = false;
    if (paused && (reason === '' || (reason === 'signal-received' && str(r['signal-name']) === 'SIGINT'))) return this.reportStop('pause', 'a pause');
    switch (reason) {
      case 'breakpoint-hit':
        return this.reportStop('breakpoint', `breakpoint ${str(r.bkptno) ?? ''}`.trim());
      case 'watchpoint-trigger':
      case 'read-watchpoint-trigger':
      case 'access-watchpoint-trigger': {
        const wpt = tuple(r.wpt) ?? tuple(r.hw_awpt) ?? tuple(r.hw_rwpt);
        const value = tuple(r.value);
        const change = value?.old !== undefined ? `: ${str(value.old)} -> ${str(value.new)}` : value?.value !== undefined ? `: ${str(value.value)}` : '';
        return this.reportStop('data breakpoint', `a ${this.lastDirection === 'reverse' ? 'write found going backwards' : 'change'} of ${str(wpt?.exp) ?? 'a watched value'}${change}`);
      }
      case 'signal-received': {
        const name = str(r['signal-name']) ?? 'a signal';
        const meaning = str(r['signal-meaning']);
        return this.reportStop('exception', `signal ${name}${meaning ? ` (${meaning})` : ''}`, this.currentThread, `${name}${meaning ? `, ${meaning}` : ''}`);
      }
      case 'end-stepping-range':
      case 'function-finished':
      case 'location-reached':
        return this.reportStop('step', 'the end of a step');
      case 'no-history':
        if (this.lastDirection === 'reverse') return this.reportStop('entry', 'the start of the recording');
        return this.endOfRecording();
      case 'exited':
      case 'exited-normally':
      case 'exited-signalled':
        return this.endOfRecording();
      default:
        return this.reportStop('pause', reason ? reason.replace(/-/g, ' ') : 'a stop');
    }
  }

  private async endOfRecording(): Promise<void> {
    const event = await this.when();
    this.say(`trr: the replay reached the end of the recording${event === undefined ? '' : ` (event ${event})`}.`, 'important');
    this.end();
  }

  private end(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.sendEvent(new TerminatedEvent());
  }

  private async dropVarobjs(): Promise<void> {
    const names = this.varobjs.splice(0);
    for (const n of names) await this.gdb?.command(`-var-delete ${n}`).catch(() => undefined);
  }

  /** Runs an MI command for a request, answering the request with its error if it fails. */
  private async run<T extends DebugProtocol.Response>(response: T, body: () => Promise<void>): Promise<void> {
    try {
      await body();
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, { id: 2, format: (e instanceof Error ? e.message : String(e)).replace(/\{/g, '(').replace(/\}/g, ')'), showUser: false });
    }
  }

  private resume(response: DebugProtocol.Response, command: string, direction: 'forward' | 'reverse'): Promise<void> {
    return this.run(response, async () => {
      this.lastDirection = direction;
      await this.dropVarobjs();
      await this.gdb!.command(command);
    });
  }

  protected continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    response.body = { allThreadsContinued: true };
    return this.resume(response, '-exec-continue', 'forward');
  }
  protected nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): Promise<void> {
    return this.resume(response, `-exec-next --thread ${args.threadId}`, 'forward');
  }
  protected stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): Promise<void> {
    return this.resume(response, `-exec-step --thread ${args.threadId}`, 'forward');
  }
  protected stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    return this.resume(response, `-exec-finish --thread ${args.threadId}`, 'forward');
  }
  protected reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): Promise<void> {
    return this.resume(response, '-exec-continue --reverse', 'reverse');
  }
  protected stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): Promise<void> {
    return this.resume(response, `-exec-next --thread ${args.threadId} --reverse`, 'reverse');
  }
  protected pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    return this.run(response, async () => {
      this.pausing = true;
      void this.interrupt(30_000);
    });
  }

  protected threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    return this.run(response, async () => {
      const r = await this.gdb!.command('-thread-info');
      const threads = list(r.results.threads).map((t) => {
        const x = tuple(t) ?? {};
        const id = Number(str(x.id));
        const target = str(x['target-id']) ?? `Thread ${id}`;
        return new Thread(id, str(x.name) ? `${str(x.name)} (${target})` : target);
      });
      response.body = { threads: threads.length ? threads : [new Thread(this.currentThread, 'main')] };
    });
  }

  protected stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    return this.run(response, async () => {
      const low = args.startFrame ?? 0;
      const high = low + (args.levels && args.levels > 0 ? args.levels : 1000) - 1;
      const depth = Number(str((await this.gdb!.command(`-stack-info-depth --thread ${args.threadId} 10000`)).results.depth) ?? 0);
      const r = await this.gdb!.command(`-stack-list-frames --thread ${args.threadId} ${low} ${high}`);
      const frames = list(r.results.stack).map((f): DebugProtocol.StackFrame => {
        const x = tuple(f) ?? {};
        const level = Number(str(x.level));
        const file = str(x.fullname) ?? str(x.file);
        const func = str(x.func) ?? '??';
        const frame: DebugProtocol.StackFrame = {
          id: this.frames.create({ thread: args.threadId, level, file }),
          name: file ? func : `${func} @ ${str(x.addr) ?? '?'}${str(x.from) ? ` (${str(x.from)})` : ''}`,
          line: Number(str(x.line) ?? 0),
          column: 0,
          instructionPointerReference: str(x.addr),
        };
        if (file) frame.source = { name: file.split('/').pop(), path: file };
        else frame.presentationHint = 'subtle';
        return frame;
      });
      response.body = { stackFrames: frames, totalFrames: depth || frames.length };
    });
  }

  protected scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const { thread, level, file } = this.frames.get(args.frameId) ?? { thread: this.currentThread, level: 0 };
    const f = { thread, level };
    response.body = {
      scopes: [
        new Scope('Locals', this.vars.create({ kind: 'locals', ...f }), false),
        new Scope('Arguments', this.vars.create({ kind: 'args', ...f }), false),
        ...(file ? [new Scope(`Statics (${file.split('/').pop()})`, this.vars.create({ kind: 'statics', ...f, file }), true)] : []),
        new Scope('Registers', this.vars.create({ kind: 'registers', ...f }), true),
      ],
    };
    this.sendResponse(response);
  }

  /** A DAP variable for a gdb var object (expandable when it has children). */
  private variableOf(name: string, value: string | undefined, type: string | undefined, varobj: string | undefined, numchild: number, f: { thread: number; level: number }): DebugProtocol.Variable {
    return {
      name,
      value: value ?? '',
      type,
      variablesReference: varobj && numchild > 0 ? this.vars.create({ kind: 'varobj', name: varobj, ...f }) : 0,
      evaluateName: undefined,
    };
  }

  private async createVarobj(expr: string, f: { thread: number; level: number }): Promise<MiTuple> {
    const r = await this.gdb!.command(`-var-create --thread ${f.thread} --frame ${f.level} - * ${miQuote(expr)}`);
    const name = str(r.results.name);
    if (name) this.varobjs.push(name);
    return r.results;
  }

  protected variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    return this.run(response, async () => {
      const ref = this.vars.get(args.variablesReference);
      const out: DebugProtocol.Variable[] = [];
      if (!ref) {
        response.body = { variables: [] };
        return;
      }
      const f = { thread: ref.thread, level: ref.level };
      if (ref.kind === 'locals' || ref.kind === 'args') {
        const r = await this.gdb!.command(`-stack-list-variables --thread ${ref.thread} --frame ${ref.level} --no-values`);
        for (const v of list(r.results.variables)) {
          const x = tuple(v) ?? {};
          const isArg = str(x.arg) === '1';
          if (isArg !== (ref.kind === 'args')) continue;
          const name = str(x.name) ?? '?';
          try {
            const o = await this.createVarobj(name, f);
            const variable = this.variableOf(name, str(o.value), str(o.type), str(o.name), Number(str(o.numchild) ?? 0), f);
            variable.evaluateName = name;
            out.push(variable);
          } catch (e) {
            out.push({ name, value: `<${(e as Error).message}>`, variablesReference: 0 });
          }
        }
      } else if (ref.kind === 'statics') {
        const r = await this.gdb!.command('-symbol-info-variables');
        for (const group of list(tuple(r.results.symbols)?.debug)) {
          const g = tuple(group) ?? {};
          if (str(g.fullname) !== ref.file && str(g.filename) !== ref.file) continue;
          for (const sym of list(g.symbols)) {
            const name = str(tuple(sym)?.name);
            if (!name || out.some((v) => v.name === name)) continue;
            try {
              const o = await this.createVarobj(name, f);
              const variable = this.variableOf(name, str(o.value), str(o.type), str(o.name), Number(str(o.numchild) ?? 0), f);
              variable.evaluateName = name;
              out.push(variable);
            } catch {
              // optimized out or not reachable from this frame
            }
          }
        }
      } else if (ref.kind === 'registers') {
        const names = list((await this.gdb!.command('-data-list-register-names')).results['register-names']).map((n) => str(n) ?? '');
        const r = await this.gdb!.command(`-data-list-register-values --thread ${ref.thread} --frame ${ref.level} x`);
        for (const v of list(r.results['register-values'])) {
          const x = tuple(v) ?? {};
          const name = names[Number(str(x.number))] ?? '';
          if (GP_REGISTERS.has(name)) out.push({ name, value: str(x.value) ?? '', variablesReference: 0, evaluateName: `$${name}` });
        }
      } else {
        const obj = ref as Extract<VarRef, { kind: 'varobj' }>;
        const r = await this.gdb!.command(`-var-list-children --all-values ${obj.name}`);
        for (const c of list(r.results.children)) {
          const x = tuple(c) ?? {};
          const exp = str(x.exp) ?? '?';
          // C++ access specifiers are pseudo-children: show them as groups.
          const child = this.variableOf(exp, str(x.value), str(x.type), str(x.name), Number(str(x.numchild) ?? 0), f);
          const path = await this.gdb!.command(`-var-info-path-expression ${str(x.name)}`).catch(() => undefined);
          child.evaluateName = str(path?.results.path_expr);
          out.push(child);
        }
      }
      response.body = { variables: out };
    });
  }

  /**
   * Changes a variable shown in the Variables view. As every change gdb
   * makes, it happens in trr's throw-away copy of the replay (a diversion):
   * it is seen until the replay resumes, which then goes on as recorded.
   */
  protected setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    return this.run(response, async () => {
      const ref = this.vars.get(args.variablesReference);
      if (!ref) throw new Error(`no such variable container (${args.variablesReference})`);
      const f = { thread: ref.thread, level: ref.level };
      let expr: string | undefined;
      if (ref.kind === 'locals' || ref.kind === 'args' || ref.kind === 'statics') expr = args.name;
      else if (ref.kind === 'registers') expr = `$${args.name}`;
      else {
        const r = await this.gdb!.command(`-var-list-children ${(ref as Extract<VarRef, { kind: 'varobj' }>).name}`);
        const child = list(r.results.children).map((c) => tuple(c) ?? {}).find((x) => str(x.exp) === args.name);
        const path = child ? await this.gdb!.command(`-var-info-path-expression ${str(child.name)}`) : undefined;
        expr = str(path?.results.path_expr);
      }
      if (!expr) throw new Error(`cannot tell which expression ${args.name} is`);
      const r = await this.gdb!.command(`-data-evaluate-expression --thread ${f.thread} --frame ${f.level} ${miQuote(`${expr} = ${args.value}`)}`);
      response.body = { value: str(r.results.value) ?? args.value };
    });
  }

  private frameOf(frameId: number | undefined): { thread: number; level: number } {
    return (frameId !== undefined ? this.frames.get(frameId) : undefined) ?? { thread: this.currentThread, level: 0 };
  }

  protected evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    return this.run(response, async () => {
      const f = this.frameOf(args.frameId);
      const expr = args.expression.trim();
      if (args.context === 'repl') {
        if (expr.startsWith('-')) {
          const r = await this.gdb!.command(expr);
          response.body = { result: (r.output + (Object.keys(r.results).length ? JSON.stringify(r.results) : '')).trim() || `^${r.cls}`, variablesReference: 0 };
          return;
        }
        let r: MiResult | undefined;
        if (/^(rc|rn|rs|rsi|rni|reverse-)/.test(expr)) this.lastDirection = 'reverse';
        else if (/^(c|n|s|si|ni|continue|next|step|finish|until|advance|stepi|nexti)\b/.test(expr)) this.lastDirection = 'forward';
        try {
          r = await this.gdb!.command(`-interpreter-exec --thread ${f.thread} --frame ${f.level} console ${miQuote(expr)}`);
        } catch (e) {
          if (!/^Undefined command|^Ambiguous command/.test((e as Error).message)) throw e;
        }
        if (r) {
          response.body = { result: r.output.replace(/\n$/, ''), variablesReference: 0 };
          return;
        }
      }
      let o: MiTuple;
      try {
        o = await this.createVarobj(expr, f);
      } catch {
        // gdb's own words for what is wrong with the expression.
        const r = await this.gdb!.command(`-data-evaluate-expression --thread ${f.thread} --frame ${f.level} ${miQuote(expr)}`);
        response.body = { result: str(r.results.value) ?? '', variablesReference: 0 };
        return;
      }
      const v = this.variableOf(expr, str(o.value), str(o.type), str(o.name), Number(str(o.numchild) ?? 0), f);
      response.body = { result: v.value, type: v.type, variablesReference: v.variablesReference };
    });
  }

  protected dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): Promise<void> {
    return this.run(response, async () => {
      const ref = args.variablesReference !== undefined ? this.vars.get(args.variablesReference) : undefined;
      let expr = args.name;
      let f = this.frameOf(args.frameId);
      if (ref) {
        f = { thread: ref.thread, level: ref.level };
        if (ref.kind === 'varobj') {
          // The child's full expression, from its parent's var object.
          const r = await this.gdb!.command(`-var-list-children ${ref.name}`);
          const child = list(r.results.children).map((c) => tuple(c) ?? {}).find((c) => str(c.exp) === args.name);
          const path = child ? await this.gdb!.command(`-var-info-path-expression ${str(child.name)}`) : undefined;
          expr = str(path?.results.path_expr) ?? args.name;
        } else if (ref.kind === 'registers') {
          response.body = { dataId: null, description: 'registers cannot be watched' };
          return;
        }
      }
      // Watched by address, so that the breakpoint means the same memory wherever the replay goes.
      const o = await this.createVarobj(expr, f);
      const type = str(o.type) ?? '';
      const evaluate = (e: string) => this.gdb!.command(`-data-evaluate-expression --thread ${f.thread} --frame ${f.level} ${miQuote(e)}`).then((r) => str(r.results.value)).catch(() => undefined);
      // `&x` prints as `(long *) 0x5555555580b0 <accounts+80>` in C, `(*mut i64) 0x7fffffffe210` in Rust.
      const address = /0x[0-9a-f]+/.exec((await evaluate(`&(${expr})`)) ?? '')?.[0];
      const size = Number(await evaluate(`sizeof(${expr})`));
      if (!address || !type || !Number.isInteger(size) || size <= 0) {
        response.body = { dataId: null, description: `${expr} is not in memory` };
        return;
      }
      response.body = {
        dataId: JSON.stringify({ address, size, type }),
        description: `${expr} (${type}, ${size} bytes at ${address})`,
        accessTypes: ['write', 'read', 'readWrite'],
        canPersist: false,
      };
    });
  }

  /**
   * Sets a gdb watchpoint on a data breakpoint's memory, as C sees it whatever
   * the program's language: typed when C can name the type, else as bytes.
   */
  private async watch(dataId: string, flag: string): Promise<MiResult> {
    const { address, size, type } = JSON.parse(dataId) as { address: string; size: number; type: string };
    if (!/^0x[0-9a-f]+$/.test(address) || !Number.isInteger(size)) throw new Error(`not a data breakpoint of this session: ${dataId}`);
    const pointer = type.includes('[') ? type.replace('[', '(*)[') : `${type} *`;
    await this.gdb!.command('-gdb-set language c');
    try {
      return await this.gdb!.command(`-break-watch ${flag}${miQuote(`*(${pointer}) ${address}`)}`).catch(() => this.gdb!.command(`-break-watch ${flag}${miQuote(`*(unsigned char (*)[${size}]) ${address}`)}`));
    } finally {
      await this.gdb!.command('-gdb-set language auto');
    }
  }

  protected setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): Promise<void> {
    return this.run(response, async () => {
      if (this.dataBreakpoints.length) await this.gdb!.command(`-break-delete ${this.dataBreakpoints.join(' ')}`).catch(() => undefined);
      this.dataBreakpoints = [];
      const out: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints) {
        const flag = b.accessType === 'read' ? '-r ' : b.accessType === 'readWrite' ? '-a ' : '';
        try {
          const r = await this.watch(b.dataId, flag);
          const w = tuple(r.results.wpt) ?? tuple(r.results.hw_rwpt) ?? tuple(r.results.hw_awpt) ?? {};
          const n = str(w.number);
          if (n) {
            this.dataBreakpoints.push(n);
            if (b.condition) await this.gdb!.command(`-break-condition ${n} ${b.condition}`);
          }
          out.push({ id: Number(n), verified: n !== undefined, message: str(w.exp) });
        } catch (e) {
          out.push({ verified: false, message: (e as Error).message });
        }
      }
      response.body = { breakpoints: out };
    });
  }

  private breakpointOf(r: MiResult): DebugProtocol.Breakpoint {
    const b = tuple(r.results.bkpt) ?? tuple(list(r.results.bkpt)[0]) ?? {};
    const pending = str(b.pending) !== undefined;
    const file = str(b.fullname) ?? str(b.file);
    return {
      id: Number(str(b.number)),
      verified: !pending,
      line: str(b.line) !== undefined ? Number(str(b.line)) : undefined,
      source: file ? { name: file.split('/').pop(), path: file } : undefined,
      message: pending ? `pending: ${str(b.pending)}` : undefined,
    };
  }

  protected setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    return this.run(response, async () => {
      const path = args.source.path ?? args.source.name ?? '';
      const old = this.sourceBreakpoints.get(path) ?? [];
      if (old.length) await this.gdb!.command(`-break-delete ${old.join(' ')}`).catch(() => undefined);
      const numbers: string[] = [];
      const out: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints ?? []) {
        try {
          const r = await this.gdb!.command(`-break-insert -f ${b.condition ? `-c ${miQuote(b.condition)} ` : ''}${miQuote(`${path}:${b.line}`)}`);
          const bp = this.breakpointOf(r);
          numbers.push(String(bp.id));
          out.push(bp);
        } catch (e) {
          out.push({ verified: false, line: b.line, message: (e as Error).message });
        }
      }
      this.sourceBreakpoints.set(path, numbers);
      response.body = { breakpoints: out };
    });
  }

  protected setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): Promise<void> {
    return this.run(response, async () => {
      if (this.functionBreakpoints.length) await this.gdb!.command(`-break-delete ${this.functionBreakpoints.join(' ')}`).catch(() => undefined);
      this.functionBreakpoints = [];
      const out: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints) {
        try {
          const r = await this.gdb!.command(`-break-insert -f ${b.condition ? `-c ${miQuote(b.condition)} ` : ''}${miQuote(b.name)}`);
          const bp = this.breakpointOf(r);
          this.functionBreakpoints.push(String(bp.id));
          out.push(bp);
        } catch (e) {
          out.push({ verified: false, message: (e as Error).message });
        }
      }
      response.body = { breakpoints: out };
    });
  }

  /**
   * Interrupts the replay (gdb sends the server its Ctrl-C byte) until it
   * stops: gdb drops an interrupt that comes while it handles a stop of its
   * own (a shared-library event), so it is asked again every second.
   */
  private async interrupt(ms: number, gdb = this.gdb): Promise<void> {
    const until = Date.now() + ms;
    while (this.running && gdb && !gdb.exited && Date.now() < until) {
      const stopped = new Promise<void>((resolve) => {
        this.stoppedOnce = resolve;
        setTimeout(resolve, 1000);
      });
      await gdb.command('-exec-interrupt').catch(() => undefined);
      await stopped;
    }
    this.stoppedOnce = undefined;
  }

  private async stopReplay(): Promise<void> {
    this.ending = true;
    const gdb = this.gdb;
    this.gdb = undefined;
    if (gdb && !gdb.exited) {
      // Stop the replay first; gdb cannot detach while it runs.
      if (this.running) await this.interrupt(10_000, gdb);
      // Detach rather than kill: trr's server then ends by itself.
      await gdb.command('-target-detach').catch(() => undefined);
      await gdb.exit();
    }
    const server = this.server;
    if (server && server.exitCode === null && server.signalCode === null) {
      const gone = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      // Without a gdb that connected (a failed launch), nothing would end it.
      const timer = setTimeout(() => server.kill('SIGTERM'), this.launched ? 3000 : 0);
      await gone;
      clearTimeout(timer);
    }
  }

  protected async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.stopReplay();
    this.sendResponse(response);
  }

  protected async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.stopReplay();
    this.sendResponse(response);
    this.end();
  }
}
