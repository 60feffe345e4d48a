// The quiz pane (issue 14): the questions of a seed (src/inspect/quiz.ts), each answer behind a
// <details> toggle (keyboard-operable, hidden until opened), and a button per generated scenario.

import type { Quiz } from '../inspect/quiz.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
/** The quiz (src/inspect/quiz.ts): a button per scenario to load it, the questions, each answer behind a toggle. */
export function quizHtml(q: Quiz): string {
  const load = q.scenarios.map((x, i) => `<button data-quiz-scenario="${i}">load ${esc(x.name)}</button>`).join(' ');
  const qs = q.questions.map((x) => `<li>${esc(x.question)}<details><summary>answer</summary>` +
    `<b class="answer">${esc(x.answer)}</b> <span class="why">(${esc(x.why)})</span></details></li>`).join('');
  return `<p class="mono">seed ${q.seed}: ${load}</p><ol id="quiz-questions">${qs}</ol>`;
}
