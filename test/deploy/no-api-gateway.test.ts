import { readdirSync, readFileSync, statSync } from 'fs';
import path from 'path';
import { SERVICES } from '../../scripts/deploy/cloud-api';
import { MODELS } from './fake-cloud-api';
import { ROOT } from './harness';

/**
 * API Gateway is retired (docs/deploy.md, "What Tencent retired"): no code path may call one of its actions or
 * endpoints. fixtures/apigateway-actions.json lists every action of its Cloud API (2018-08-08) from the SDK.
 */

const APIGW = (
  JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'apigateway-actions.json'), 'utf8')) as {
    actions: string[];
  }
).actions;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name === 'node_modules' ? [] : sources(file);
    return /\.(ts|js|mjs|cjs|sh)$/.test(name) || name === 'deploy-two-phase' ? [file] : [];
  });
}

const FILES = [
  ...sources(path.join(ROOT, 'code')),
  ...sources(path.join(ROOT, 'scripts')),
  path.join(ROOT, 'scripts/deploy/tencent-stack.yml'),
];

describe('no API Gateway', () => {
  it('has the list of API Gateway actions to look for', () => {
    expect(APIGW.length).toBeGreaterThan(90);
    expect(APIGW).toEqual(
      expect.arrayContaining(['DescribeApi', 'CreateService', 'DescribeServicesStatus', 'ReleaseService']),
    );
  });

  it('names no API Gateway action, service or endpoint anywhere in code/, scripts/ or scripts/deploy/tencent-stack.yml', () => {
    const found: string[] = [];
    const actions = new RegExp(`['"\`](${APIGW.join('|')})['"\`]`);
    const endpoints =
      /apigateway\.tencentcloudapi\.com|apigw\.tencentcs\.com|apigateway\.tencentyun\.com|['"]apigateway['"]|component:\s*apigateway|serverless-cloud-framework/i;
    for (const file of FILES) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (actions.test(line) || endpoints.test(line))
            found.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });

  it('signs requests for SCF, CVM, VPC, CAM and TAT only, and the fake knows no other action', () => {
    expect(Object.keys(SERVICES).sort()).toEqual(['cam', 'cvm', 'scf', 'tat', 'vpc']);
    for (const { service } of Object.values(MODELS.actions)) expect(Object.keys(SERVICES)).toContain(service);
    for (const action of Object.keys(MODELS.actions)) expect(APIGW).not.toContain(action);
  });
});
