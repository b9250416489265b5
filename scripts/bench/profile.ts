/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof` or the inspector) and says where the time went: self time per
 * module (npm package, project file or Node internal) and the hottest functions. Built-ins without a script
 * (JSON.parse, RegExp, ...) are charged to the module that called them, which is what one can act on.
 */

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  byModule: Array<{ module: string; ms: number; share: number }>;
  /**
   * Self time charged to the nearest npm package or project file up the stack, so that Node's HTTP work done
   * inside an axios call counts as axios. What has no such frame is Node's own event-loop and socket work.
   */
  byOwner: Array<{ module: string; ms: number; share: number }>;
  topFunctions: Array<{ name: string; module: string; ms: number }>;
}

/** A bundle's module boundaries: esbuild writes `// <path>` before each module when not minifying. */
export function bundleSections(source: string): Array<{ line: number; module: string }> {
  const sections: Array<{ line: number; module: string }> = [];
  source.split('\n').forEach((text, line) => {
    const match = /^\/\/ ((?:node_modules|code|scripts)\/\S+)$/.exec(text);
    if (match) sections.push({ line, module: moduleName(match[1]!) });
  });
  return sections;
}

/** node_modules/@scope/pkg/x.js → @scope/pkg; node_modules/axios/lib/x.js → axios; code/push/a.ts → code/push/a.ts. */
export function moduleName(file: string): string {
  const nm = file.lastIndexOf('node_modules/');
  if (nm === -1) return file;
  const parts = file.slice(nm + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function nodeInternal(url: string): string {
  // node:internal/streams/readable → node:internal/streams; node:_http_client stays as it is.
  const match = /^node:internal\/([^/]+)\//.exec(url);
  return match ? `node:internal/${match[1]}` : url;
}

export function summarizeProfile(
  profile: CpuProfile,
  /** Module of a line (0-based) of a bundle file, when the profile ran an unminified bundle. */
  bundles: Record<string, Array<{ line: number; module: string }>> = {},
  top = 15,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const moduleOfFrame = (node: CpuProfileNode): string | undefined => {
    const { url, lineNumber, functionName } = node.callFrame;
    if (url === '') return functionName.startsWith('(') ? functionName : undefined;
    if (url.startsWith('node:')) return nodeInternal(url);
    const file = url.replace(/^file:\/\//, '');
    const sections = bundles[file];
    if (sections) {
      let found = '(bundle prelude)';
      for (const s of sections) {
        if (s.line > lineNumber) break;
        found = s.module;
      }
      return found;
    }
    const nm = file.lastIndexOf('node_modules/');
    return nm === -1 ? file : moduleName(file);
  };
  const moduleOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const found = moduleOfFrame(byId.get(at)!);
      if (found !== undefined) return found;
    }
    return '(unknown)';
  };

  const isOwner = (module: string) => !module.startsWith('node:') && !module.startsWith('(');
  const ownerOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const found = moduleOfFrame(byId.get(at)!);
      if (found !== undefined && isOwner(found)) return found;
    }
    const own = moduleOf(id);
    return own.startsWith('(') ? own : 'node (event loop, sockets, timers)';
  };

  let totalUs = 0;
  const modules = new Map<string, number>();
  const owners = new Map<string, number>();
  const functions = new Map<string, { name: string; module: string; us: number }>();
  for (const [id, us] of selfUs) {
    totalUs += us;
    const node = byId.get(id)!;
    const module = moduleOf(id);
    modules.set(module, (modules.get(module) ?? 0) + us);
    const owner = ownerOf(id);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const name = `${node.callFrame.functionName || '(anonymous)'}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
    const key = `${module} ${name}`;
    const entry = functions.get(key) ?? { name, module, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const ranked = (map: Map<string, number>) =>
    [...map.entries()]
      .map(([module, us]) => ({ module, ms: us / 1000, share: totalUs ? us / totalUs : 0 }))
      .sort((a, b) => b.ms - a.ms);
  return {
    totalMs: totalUs / 1000,
    byModule: ranked(modules),
    byOwner: ranked(owners),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, module: f.module, ms: f.us / 1000 })),
  };
}
