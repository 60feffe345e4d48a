/**
 * Crash example 1: a log append that writes a record, then a valid flag.
 * - log-append-fenced: record; CLWB its lines; SFENCE; flag; CLWB; SFENCE. Every crash state
 *   with the flag set also has the whole record.
 * - log-append-no-fence: the same without the SFENCE between record and flag: the flag's line
 *   may reach the media (evicted, or flushed by the last SFENCE) while the record's lines do not,
 *   and the explorer finds that state.
 * Run: npm run daxsim -- crash examples/crash/log-append.ts
 */
import type { CrashProgram, CrashContext } from '../../src/crash/explore.ts';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED } from '../../src/mm/constants.ts';

const RECORD_BYTES = 100, FLAG_OFFSET = 128;

function logAppend(fenced: boolean) {
  return (ctx: CrashContext): void => {
    const p = ctx.machine.process();
    const path = `${ctx.dir}/log`;
    const fd = p.open(path, O_RDWR | O_CREAT);
    p.pwrite(fd, 4096, 0, 0); // a written, committed block: the log's home
    p.fsync(fd);
    const a = p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    for (let i = 0; i < RECORD_BYTES; i++) p.store(a + i, i + 1);
    p.flush(a, RECORD_BYTES, 'clwb');
    if (fenced) p.fence('sfence');
    p.store(a + FLAG_OFFSET, 1);
    p.flush(a + FLAG_OFFSET, 1, 'clwb');
    p.fence('sfence');
  };
}

function check(view: import('../../src/crash/view.ts').CrashView): string | null {
  const path = '/mnt/log';
  if (view.byte(path, FLAG_OFFSET) !== 1) return null;
  for (let i = 0; i < RECORD_BYTES; i++) {
    const b = view.byte(path, i);
    if (b !== i + 1) return `valid flag set but record byte ${i} is ${b}, not ${i + 1}`;
  }
  return null;
}

const programs: CrashProgram[] = [
  { name: 'log-append-fenced', description: 'record, clwb, sfence, flag, clwb, sfence', run: logAppend(true), check },
  { name: 'log-append-no-fence', description: 'record, clwb, flag, clwb, sfence: no fence between record and flag', run: logAppend(false), check },
];
export default programs;
