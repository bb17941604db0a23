import { readFileSync, readdirSync } from 'node:fs';

// Linux /proc accounting for a server and every process it forked (cluster workers), so a
// multi-process server is charged for all of its memory and CPU.
const CLOCK_TICKS_PER_SECOND = 100;

function childrenOf(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

export function processTree(rootPid) {
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i += 1) pids.push(...childrenOf(pids[i]));
  return pids;
}

function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the full line, 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export const treeRssBytes = (rootPid) => processTree(rootPid).reduce((sum, pid) => sum + rssBytes(pid), 0);
export const treeCpuSeconds = (rootPid) => processTree(rootPid).reduce((sum, pid) => sum + cpuSeconds(pid), 0);

/** Samples the tree's RSS while a measurement runs; returns the peak and the CPU time used. */
export function watchProcessTree(rootPid, intervalMs = 100) {
  const cpuAtStart = treeCpuSeconds(rootPid);
  let peakRss = treeRssBytes(rootPid);
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, treeRssBytes(rootPid));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peakRss = Math.max(peakRss, treeRssBytes(rootPid));
      return { peakRssBytes: peakRss, cpuSeconds: treeCpuSeconds(rootPid) - cpuAtStart };
    },
  };
}
