/**
 * The interop matrix (issue 7): client × operation × plaintext/encrypted, written by the suite
 * itself into docs/interop-matrix.md, never by hand.
 *
 * Each interop test file records what really happened, cell by cell, and in `afterAll` saves its
 * results as JSON in a folder of this jest run (one folder per run: jest's main process id and
 * start time). Whichever file saves last finds the results of every file of the matrix there and
 * renders the markdown. A run of only some files renders nothing; a run in which a client was
 * skipped for a missing program, or whose cells were not all recorded (a test filter, a crash),
 * renders into the run folder only, so that docs/ always shows a run with every cell present.
 * The text depends on outcomes only (no times, keys or ids), so that a run on a fresh clone
 * regenerates the same file when nothing changed.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { OPERATION_NAMES } from '../../src/domain/operations';

export type Mode = 'plaintext' | 'encrypted';
export const MODES: readonly Mode[] = ['plaintext', 'encrypted'];

/**
 * pass: the client ran the operation in that mode and got the correct answer, verified (wire
 * checks, MAC, decryption). waiting: the platform answered 80009001, the operation or the
 * encryption is not built yet; `note` names the open issue. fail: anything else; `note` says
 * what. not-run: the client could not run (a program missing).
 */
export type CellState = 'pass' | 'waiting' | 'fail' | 'not-run';

export interface Cell {
  state: CellState;
  note?: string;
}

export interface MatrixColumn {
  id: string;
  title: string;
  /** The test file (base name, without .test.ts) that fills the column. */
  file: string;
}

/** The columns, in the order shown. */
export const MATRIX_COLUMNS: readonly MatrixColumn[] = [
  { id: 'mono-soap11', title: '.NET (mono wsdl proxy) SOAP 1.1', file: 'mono-csharp-client' },
  { id: 'php-soap11', title: 'PHP SoapClient SOAP 1.1', file: 'php-soapclient' },
  { id: 'php-soap12', title: 'PHP SoapClient SOAP 1.2', file: 'php-soapclient' },
  { id: 'zeep-soap11', title: 'Python zeep SOAP 1.1', file: 'python-zeep' },
  { id: 'zeep-soap12', title: 'Python zeep SOAP 1.2', file: 'python-zeep' },
  { id: 'gsoap-soap11', title: 'gSOAP C++ SOAP 1.1', file: 'gsoap-client' },
  { id: 'gsoap-soap12', title: 'gSOAP C++ SOAP 1.2', file: 'gsoap-client' },
  { id: 'curl-rest', title: 'curl REST', file: 'curl-rest' },
  { id: 'spec-soap11', title: 'spec examples verbatim, SOAP 1.1', file: 'spec-examples-replay' },
  { id: 'spec-rest', title: 'spec examples verbatim, REST', file: 'spec-examples-replay' },
];

/** The file of raw requests as tools write them; its cases get a table of their own. */
export const RAW_CASES_FILE = 'raw-xml-requests';

/** Where a waiting cell points. */
export const OPEN_ISSUES = {
  operations: 'issue 3',
  encryption: 'issue 4',
} as const;

interface RawCase {
  name: string;
  cell: Cell;
}

interface FileResults {
  file: string;
  cells: Record<string, Cell>;
  rawCases: RawCase[];
}

const DOCS_MATRIX = path.resolve(__dirname, '../../docs/interop-matrix.md');

export class MatrixRecorder {
  private readonly cells: Record<string, Cell> = {};
  private readonly rawCases: RawCase[] = [];

  constructor(private readonly file: string) {}

  cell(columnId: string, mode: Mode, operation: string, cell: Cell): void {
    if (!MATRIX_COLUMNS.some((column) => column.id === columnId && column.file === this.file)) {
      throw new Error(`column ${columnId} is not filled by ${this.file}`);
    }
    this.cells[cellKey(columnId, mode, operation)] = cell;
  }

  rawCase(name: string, cell: Cell): void {
    this.rawCases.push({ name, cell });
  }

  /** Saves this file's results and renders the matrix when every file of the run has saved. */
  save(): void {
    const directory = runDirectory();
    mkdirSync(directory, { recursive: true });
    const results: FileResults = { file: this.file, cells: this.cells, rawCases: this.rawCases };
    writeAtomically(path.join(directory, `${this.file}.json`), JSON.stringify(results, null, 2));

    const all = readRunResults(directory);
    if (!expectedFiles().every((file) => all.has(file))) return;

    const markdown = renderMatrix(all);
    if (isComplete(all)) {
      writeAtomically(DOCS_MATRIX, markdown);
    } else {
      const written = path.join(directory, 'interop-matrix.md');
      writeAtomically(written, markdown);
      console.warn(`Some interop cells did not run: docs/interop-matrix.md left alone; this run's is ${written}`);
    }
  }
}

function cellKey(columnId: string, mode: Mode, operation: string): string {
  return `${columnId} ${mode} ${operation}`;
}

function expectedFiles(): string[] {
  return [...new Set([...MATRIX_COLUMNS.map((column) => column.file), RAW_CASES_FILE])];
}

/** Every cell recorded (none left out by a filter or a crash) and none for want of a program. */
function isComplete(all: Map<string, FileResults>): boolean {
  const cells = new Map([...all.values()].flatMap((results) => Object.entries(results.cells)));
  const recorded = (column: MatrixColumn, mode: Mode) =>
    OPERATION_NAMES.every((operation) => cells.has(cellKey(column.id, mode, operation)));
  const everyCell = MATRIX_COLUMNS.every((column) => MODES.every((mode) => recorded(column, mode)));
  const rawCases = all.get(RAW_CASES_FILE)?.rawCases ?? [];
  const ran = (cell: Cell) => cell.state !== 'not-run';
  return (
    everyCell && rawCases.length > 0 && [...cells.values()].every(ran) && rawCases.every(({ cell }) => ran(cell))
  );
}

/**
 * One folder per jest run. Test files run in jest's worker processes (children of the main
 * process, which they talk to over IPC) or, for a single file, in the main process itself.
 */
function runDirectory(): string {
  const jestProcess = process.send === undefined ? process.pid : process.ppid;
  const root = path.join(tmpdir(), 'cnmcsp-interop-results');
  forgetOldRuns(root);
  return path.join(root, `${jestProcess}-${processStartTime(jestProcess)}`);
}

/** Field 22 of /proc/<pid>/stat, so that a reused process id is a different run. */
function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '0';
  } catch {
    return '0';
  }
}

function forgetOldRuns(root: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  try {
    for (const entry of readdirSync(root)) {
      const full = path.join(root, entry);
      if (statSync(full).mtimeMs < dayAgo) rmSync(full, { recursive: true, force: true });
    }
  } catch {
    // No runs yet.
  }
}

function readRunResults(directory: string): Map<string, FileResults> {
  const results = new Map<string, FileResults>();
  for (const entry of readdirSync(directory)) {
    if (!entry.endsWith('.json')) continue;
    const parsed = JSON.parse(readFileSync(path.join(directory, entry), 'utf8')) as FileResults;
    results.set(parsed.file, parsed);
  }
  return results;
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

const SYMBOLS: Record<CellState, string> = { pass: '✅', waiting: '⏳', fail: '❌', 'not-run': '—' };

function cellText(cell: Cell | undefined): string {
  if (cell === undefined) return '— not recorded';
  if (cell.state === 'waiting') return `${SYMBOLS.waiting} ${cell.note ?? ''}`.trim();
  if (cell.state === 'not-run') return `${SYMBOLS['not-run']} not run`;
  return SYMBOLS[cell.state];
}

export function renderMatrix(all: Map<string, FileResults>): string {
  const cells = new Map<string, Cell>();
  for (const results of all.values()) {
    for (const [key, cell] of Object.entries(results.cells)) cells.set(key, cell);
  }

  const lines = [
    '# Interop matrix',
    '',
    '<!-- Written by the interop suite (test/interop, test/support/interop-matrix.ts); do not edit. -->',
    '',
    'Every cell is one real call: the client named by the column, generated from or pointed at the',
    'running platform over real HTTP, called the operation in that mode. How each client is built and',
    'what is checked is in [interop.md](interop.md). Regenerate with `npm test -- test/interop`',
    '(with every client installed, as `.ci/run` does).',
    '',
    `- ${SYMBOLS.pass} the answer was correct and verified: the expected ReturnCode and content, OpResult`,
    '  equal to the payload\'s ReturnCode, every wire check passed; in encrypted mode the client',
    '  encrypted the request itself, and verified the MAC of the answer and decrypted it.',
    `- ${SYMBOLS.waiting} the platform answered 80009001 (not supported yet): the cell waits on the open`,
    `  issue named (${OPEN_ISSUES.operations}: the money, price, valve, meter-change and reading operations;`,
    `  ${OPEN_ISSUES.encryption}: encrypted mode).`,
    `- ${SYMBOLS.fail} a wrong answer; the failures are listed below the tables.`,
    '',
  ];

  for (const mode of MODES) {
    const heading = mode === 'plaintext' ? 'Plaintext mode (DECISIONS §3.5)' : 'Encrypted mode (DECISIONS §3.3)';
    lines.push(`## ${heading}`, '');
    lines.push(`| operation | ${MATRIX_COLUMNS.map((column) => column.title).join(' | ')} |`);
    lines.push(`|---|${MATRIX_COLUMNS.map(() => ':-:').join('|')}|`);
    for (const operation of OPERATION_NAMES) {
      const row = MATRIX_COLUMNS.map((column) => cellText(cells.get(cellKey(column.id, mode, operation))));
      lines.push(`| ${operation} | ${row.join(' | ')} |`);
    }
    lines.push('');
  }

  const rawCases = all.get(RAW_CASES_FILE)?.rawCases ?? [];
  lines.push('## Requests as tools write them, sent raw to the running platform', '');
  lines.push('| request | result |', '|---|:-:|');
  for (const { name, cell } of rawCases) lines.push(`| ${name} | ${cellText(cell)} |`);
  lines.push('');

  const failures = [
    ...[...cells.entries()]
      .filter(([, cell]) => cell.state === 'fail')
      .map(([key, cell]) => `- ${describeKey(key)}: ${oneLine(cell.note)}`),
    ...rawCases
      .filter(({ cell }) => cell.state === 'fail')
      .map(({ name, cell }) => `- ${name}: ${oneLine(cell.note)}`),
  ];
  lines.push('## Failures', '', ...(failures.length > 0 ? failures.sort() : ['None.']), '');
  return lines.join('\n');
}

function oneLine(note: string | undefined): string {
  return (note ?? '').replace(/\s+/g, ' ').trim();
}

function describeKey(key: string): string {
  const [columnId, mode, operation] = key.split(' ');
  const column = MATRIX_COLUMNS.find((candidate) => candidate.id === columnId);
  return `${column?.title ?? columnId}, ${mode}, ${operation}`;
}
