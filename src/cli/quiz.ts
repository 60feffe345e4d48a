// `daxsim quiz --seed S [--answers] [--json]`: the teaching mode of issue 14 in the terminal: a
// small scenario and questions generated from the seed (src/inspect/quiz.ts), answers hidden
// until asked for; the same seed gives the same quiz.

import { makeQuiz, formatQuiz } from '../inspect/quiz.ts';
import { parseCommand, UsageError, type CommandSpec } from './args.ts';

export const QUIZ: CommandSpec = {
  name: 'quiz',
  usage: `usage: daxsim quiz --seed S [--answers] [--json]

  generate two small scenarios from seed S (a tmpfs file read through a mapping; stores to a DAX
  file, with or without msync) and questions about them: how many page faults, which PTEs are
  present, what a byte reads after a power failure. The model computes the answers; --answers
  prints them, with why`,
  options: { seed: { type: 'string' }, answers: { type: 'boolean' }, json: { type: 'boolean' } },
};

export function cmdQuiz(args: string[]): number {
  const { values, positionals } = parseCommand(QUIZ, args);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, QUIZ.usage);
  const spec = values['seed'];
  if (typeof spec !== 'string') throw new UsageError('quiz needs --seed S', QUIZ.usage);
  const seed = Number(spec);
  if (!/^\d+$/.test(spec) || !Number.isSafeInteger(seed)) {
    throw new UsageError(`--seed: expected a non-negative integer, got "${spec}"`, QUIZ.usage);
  }
  const q = makeQuiz(seed);
  const answers = values['answers'] === true;
  if (values['json'] === true) {
    const questions = q.questions.map((x) => (answers ? x : { question: x.question }));
    console.log(JSON.stringify({ ...q, questions }, null, 2));
  } else for (const l of formatQuiz(q, answers)) console.log(l);
  return 0;
}
