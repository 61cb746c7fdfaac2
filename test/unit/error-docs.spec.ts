/**
 * docs/errors.md is written by hand for client developers; this keeps its table tied to the error
 * catalogue, so a code added, removed or re-mapped in the code fails here until the doc follows.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCatalogue } from '@app/contract';

const DOC_PATH = resolve(__dirname, '../../docs/errors.md');

interface DocRow {
  code: number;
  status: number;
  name: string;
}

function cellsOf(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1'));
}

/** The rows of the first table whose header has `code`, `HTTP status` and `name` columns. */
function catalogueTable(markdown: string): DocRow[] {
  const lines = markdown.split('\n');
  const headerIndex = lines.findIndex((line) => {
    if (!line.trim().startsWith('|')) return false;
    const header = cellsOf(line).map((cell) => cell.toLowerCase());
    return header.includes('code') && header.includes('http status') && header.includes('name');
  });
  if (headerIndex === -1) throw new Error(`${DOC_PATH} has no table with code, HTTP status and name columns`);

  const header = cellsOf(lines[headerIndex]).map((cell) => cell.toLowerCase());
  const column = (name: string) => header.indexOf(name);
  expect(lines[headerIndex + 1]).toMatch(/^\|(\s*:?-+:?\s*\|)+$/);

  const rows: DocRow[] = [];
  for (const line of lines.slice(headerIndex + 2)) {
    if (!line.trim().startsWith('|')) break;
    const cells = cellsOf(line);
    expect({ line, cells: cells.length }).toEqual({ line, cells: header.length });
    const code = cells[column('code')];
    const status = cells[column('http status')];
    expect({ line, code, status }).toEqual({ line, code: expect.stringMatching(/^\d+$/), status: expect.stringMatching(/^\d{3}$/) });
    rows.push({ code: Number(code), status: Number(status), name: cells[column('name')] });
  }
  return rows;
}

const catalogue: DocRow[] = Object.entries(ErrorCatalogue).map(([name, definition]) => ({ name, code: definition.code, status: definition.status }));

describe('docs/errors.md', () => {
  const rows = catalogueTable(readFileSync(DOC_PATH, 'utf8'));

  it('lists exactly the codes of the error catalogue, each once', () => {
    const byNumber = (a: number, b: number) => a - b;
    expect(rows.map((row) => row.code).sort(byNumber)).toEqual(catalogue.map((entry) => entry.code).sort(byNumber));
  });

  it('gives each code the HTTP status and name the catalogue gives it', () => {
    const documented = new Map(rows.map((row) => [row.code, row]));
    for (const entry of catalogue) {
      expect({ code: entry.code, ...documented.get(entry.code) }).toEqual({ code: entry.code, status: entry.status, name: entry.name });
    }
  });
});

describe('the error catalogue', () => {
  it('gives every error its own code', () => {
    const namesByCode = new Map<number, string[]>();
    for (const entry of catalogue) namesByCode.set(entry.code, [...(namesByCode.get(entry.code) ?? []), entry.name]);
    const shared = [...namesByCode.entries()].filter(([, names]) => names.length > 1);
    expect(shared).toEqual([]);
  });

  it('never uses the success code 200 for an error', () => {
    expect(catalogue.filter((entry) => entry.code === 200)).toEqual([]);
  });
});
