import { readdirSync, readFileSync, statSync } from 'fs';
import path from 'path';
import { FUNCTION_COS_ACTIONS } from '../../scripts/deploy/functions';
import { MODELS } from './fake-cloud-api';
import { ROOT } from './harness';

/**
 * The functions' CAM policy is complete: every COS request the function code makes maps to the CAM actions COS
 * checks for it (https://cloud.tencent.com/document/product/436/31923), and the policy the deploy creates and the
 * one docs/deploy.md shows both grant exactly those. The deploy key's policy in the docs covers every Cloud API
 * action the deploy calls.
 */

/** COS request (named as the SDK's method) → the CAM actions COS checks. A multi-delete is checked per key against DeleteObject too. */
const CAM_ACTIONS: Record<string, string[]> = {
  putObject: ['cos:PutObject'],
  getObject: ['cos:GetObject'],
  headObject: ['cos:HeadObject'],
  getBucket: ['cos:GetBucket'],
  deleteObject: ['cos:DeleteObject'],
  deleteMultipleObject: ['cos:DeleteMultipleObjects', 'cos:DeleteObject'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sources(file) : name.endsWith('.ts') ? [file] : [];
  });
}

/**
 * The COS calls in the function code: every request the COS store makes goes through its `call('<operation>', …)`
 * (code/cos/object-store.ts), named as the SDK names the same request; a `cos.<method>(` would be an SDK call.
 */
function cosCallsOfTheCode(): string[] {
  const calls = new Set<string>();
  for (const file of sources(path.join(ROOT, 'code'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bcos\.([a-zA-Z]+)\(/g)) calls.add(m[1]!);
    if (file.endsWith(path.join('cos', 'object-store.ts')))
      for (const m of text.matchAll(/\bcall\(\s*'([a-zA-Z]+)'/g)) calls.add(m[1]!);
  }
  return [...calls].sort();
}

const DOC = readFileSync(path.join(ROOT, 'docs', 'deploy.md'), 'utf8');

function policyBlock(title: string): { version: string; statement: { action: string[] }[] } {
  const at = DOC.indexOf(title);
  expect(at).toBeGreaterThan(-1);
  const json = /```json\n([\s\S]*?)```/.exec(DOC.slice(at))![1]!;
  return JSON.parse(json) as { version: string; statement: { action: string[] }[] };
}

describe('CAM policies', () => {
  it('grants the functions every COS action their code calls, and no other', () => {
    const calls = cosCallsOfTheCode();
    expect(calls).toEqual(['deleteMultipleObject', 'getObject', 'putObject', 'getBucket'].sort());
    const needed = [...new Set(calls.flatMap((c) => CAM_ACTIONS[c] ?? [`unknown COS call ${c}`]))].sort();
    expect([...FUNCTION_COS_ACTIONS].sort()).toEqual(needed);
    expect(needed).toContain('cos:DeleteObject');
    const documented = policyBlock('<!-- function-policy -->').statement.flatMap((s) => s.action);
    expect(documented.map((a) => a.replace(/^name\//, '')).sort()).toEqual(needed);
  });

  it('documents a deploy-key policy that covers every Cloud API and COS action the deploy calls', () => {
    const documented = new Set(
      policyBlock('<!-- deploy-policy -->')
        .statement.flatMap((s) => s.action)
        .map((a) => a.replace(/^name\//, '')),
    );
    const needed = [
      ...Object.entries(MODELS.actions).map(([action, m]) => `${m.service}:${action}`),
      // scripts/deploy/cos-api.ts
      'cos:HeadBucket',
      'cos:PutBucket',
      'cos:HeadObject',
      'cos:GetObject',
      'cos:PutObject',
      'cos:GetBucket',
      'cos:DeleteObject',
      'cos:DeleteMultipleObjects',
      'cos:DeleteBucket',
      // RunInstances with a role for the functions: CreateFunction passes Role, which needs cam:PassRole.
      'cam:PassRole',
    ];
    expect(needed.filter((a) => !documented.has(a))).toEqual([]);
  });
});
