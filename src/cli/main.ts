#!/usr/bin/env node
// The daxsim command line: one file per command (run.ts, reproduce.ts, crash.ts, quiz.ts, profiles.ts,
// merge.ts, store-cmds.ts; the real-kernel runner in src/oracle/command.ts), each parsed with
// node:util parseArgs (args.ts): `--opt value` and `--opt=value`, `daxsim CMD --help`.
// Exit codes: 0 success, 1 an `expect` failed (or compare found differences), 2 bad usage or a
// scenario that cannot be run, 3 an internal error of the model (printed with its stack, as it is a bug).

import { kernelMain, KERNEL_USAGE } from '../oracle/command.ts';
import { viewMain, VIEW_USAGE, ViewUsageError } from './view.ts';
import { fuzzMain, FUZZ_USAGE } from '../oracle/fuzz-command.ts';
import { UsageError, daxsimVersion, type CommandSpec } from './args.ts';
import { describeUserError, WorkerError } from './errors.ts';
import { RUN, cmdRun } from './run.ts';
import { PROFILES, cmdProfiles } from './profiles.ts';
import { REPRODUCE, cmdReproduce } from './reproduce.ts';
import { CRASH, cmdCrash } from './crash.ts';
import { QUIZ, cmdQuiz } from './quiz.ts';
import { MERGE, cmdMerge } from './merge.ts';
import { RUNS, COMPARE, cmdRuns, cmdCompare } from './store-cmds.ts';
import { StoreError } from '../store/runs.ts';

const USAGE = `usage: daxsim <command> [arguments]     (daxsim <command> --help for its options)

commands:
  run FILE [--json] [--breakdown] [--trace [ftrace|perfetto]] [--profile A,B] [--set KNOB=V,V2]
                      run a scenario file (YAML or JSON), on one or many kernel variants
  merge SHARD.json... join the JSON of a sweep's shards (run --shard I/N --json)
  runs --store DB     list the runs a --store kept
  compare A B         what changed between two stored runs, sets of runs, or run --json files
  profiles [NAME...]  list the kernel profiles; with names, every knob with its value and meaning
  reproduce [NAME...] [--json] [--plot DIR]
                      re-run the seed experiments beside the published figures
  crash FILE [--program NAME] [--max-states N] [--seed S] [--json] [--all] [--allow-partial]
        [--workers N | --shard I/N | --merge A,B] [--replay POINT:K1,...] [--no-recovery-crashes]
                      explore every crash state of crash programs or a scenario
  quiz --seed S [--answers] [--json]
                      a generated scenario with questions (faults, PTEs, bytes after a crash)
${KERNEL_USAGE}
${VIEW_USAGE}
${FUZZ_USAGE}
  help, --help        this text;  --version  daxsim's version

exit codes: 0 ok, 1 an expect failed (crash: an invariant broke), 2 bad usage or invalid scenario,
  3 internal error, 4 crash: exploration incomplete or empty`;

type Command = { spec: CommandSpec | null; run: (args: string[]) => number | Promise<number> };

/** `--kernel=6.1` as `--kernel 6.1` for the real-kernel runner's own parser. */
function splitEquals(args: string[]): string[] {
  return args.flatMap((a) => (/^--[a-z-]+=/.test(a) ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]));
}

const COMMANDS: Record<string, Command> = {
  run: { spec: RUN, run: cmdRun },
  merge: { spec: MERGE, run: cmdMerge },
  runs: { spec: RUNS, run: cmdRuns },
  compare: { spec: COMPARE, run: cmdCompare },
  profiles: { spec: PROFILES, run: cmdProfiles },
  reproduce: { spec: REPRODUCE, run: cmdReproduce },
  crash: { spec: CRASH, run: cmdCrash },
  quiz: { spec: QUIZ, run: cmdQuiz },
  kernel: { spec: null, run: (a) => kernelMain(splitEquals(a)) },
  view: { spec: null, run: (a) => viewMain(splitEquals(a)) },
  fuzz: { spec: null, run: (a) => fuzzMain(splitEquals(a)) },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined) throw new UsageError('no command given');
    if (command === 'help' || command === '--help' || command === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (command === '--version' || command === '-V') {
      console.log(`daxsim ${daxsimVersion()}`);
      return 0;
    }
    const c = Object.hasOwn(COMMANDS, command) ? COMMANDS[command]! : undefined;
    if (c === undefined) throw new UsageError(`unknown command "${command}"`);
    if (args.includes('--help') || args.includes('-h')) {
      const own = command === 'view' ? VIEW_USAGE : command === 'fuzz' ? FUZZ_USAGE : KERNEL_USAGE;
      console.log(c.spec === null ? `usage:\n${own}` : c.spec.usage);
      return 0;
    }
    return await c.run(args);
  } catch (e) {
    return report(e);
  }
}

/** Exit code and message for an error: usage and scenario errors are the user's; anything else is a bug. */
function report(e: unknown): number {
  if (e instanceof UsageError) {
    const cmd = /^usage: (daxsim \w+)/.exec(e.usage)?.[1] ?? 'daxsim';
    console.error(`daxsim: ${e.message}\n(${cmd} --help for usage)`);
    return 2;
  }
  if (e instanceof StoreError || e instanceof ViewUsageError || (e instanceof WorkerError && e.user)) {
    console.error(`daxsim: ${e.message}`);
    return 2;
  }
  const user = describeUserError(e);
  if (user !== null) {
    console.error(`daxsim: ${user}`);
    return 2;
  }
  console.error('daxsim: internal error (a bug in the model):');
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  return 3;
}

void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
