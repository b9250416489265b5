import {
  bundleSections,
  moduleName,
  summarizeProfile,
  type CpuProfile,
} from '../../../scripts/bench/profile';

describe('profile summary', () => {
  it('names npm packages, scoped packages and project files', () => {
    expect(moduleName('node_modules/axios/lib/core/Axios.js')).toBe('axios');
    expect(moduleName('node_modules/@scope/pkg/index.js')).toBe('@scope/pkg');
    expect(moduleName('code/push/http-push-client.ts')).toBe('code/push/http-push-client.ts');
  });

  it('finds module boundaries in an unminified esbuild bundle', () => {
    const source = [
      '"use strict";',
      '// node_modules/axios/index.js',
      'x();',
      '// code/chat/broadcast.ts',
      'y();',
    ];

    expect(bundleSections(source.join('\n'))).toEqual([
      { line: 1, module: 'axios' },
      { line: 3, module: 'code/chat/broadcast.ts' },
    ]);
  });

  it('charges built-ins to their caller and Node internals to the package up the stack', () => {
    const frame = (functionName: string, url: string, lineNumber = 0) => ({
      functionName,
      url,
      lineNumber,
      columnNumber: 0,
    });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 5] },
        { id: 2, callFrame: frame('post', 'file:///b.js', 2), children: [3, 4] },
        { id: 3, callFrame: frame('JSON.stringify', '') },
        { id: 4, callFrame: frame('writev', 'node:internal/stream_base_commons') },
        { id: 5, callFrame: frame('(garbage collector)', '') },
      ],
      startTime: 0,
      endTime: 10,
      samples: [2, 3, 4, 4, 5],
      timeDeltas: [1000, 1000, 1000, 1000, 1000],
    };
    const sections = { '/b.js': [{ line: 1, module: 'axios' }] };

    const summary = summarizeProfile(profile, sections);

    expect(summary.totalMs).toBe(5);
    expect(summary.byModule).toEqual([
      { module: 'axios', ms: 2, share: 0.4 },
      { module: 'node:internal/stream_base_commons', ms: 2, share: 0.4 },
      { module: '(garbage collector)', ms: 1, share: 0.2 },
    ]);
    expect(summary.byOwner[0]).toEqual({ module: 'axios', ms: 4, share: 0.8 });
  });
});
