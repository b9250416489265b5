// Lints in-memory snippets as if they were files of the project, with the project's own ESLint config, and
// prints each snippet's messages as JSON. A separate process because ESLint loads its config with import(),
// which Jest's module sandbox does not allow.
import { ESLint } from 'eslint';

const input = JSON.parse(
  await new Promise((resolve) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  }),
);
const eslint = new ESLint({ cwd: process.cwd() });
const results = [];
for (const { filePath, code } of input) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push(
    result.messages.map(({ ruleId, severity, line, message }) => ({ ruleId, severity, line, message })),
  );
}
process.stdout.write(JSON.stringify(results));
