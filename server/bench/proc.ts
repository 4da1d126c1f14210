/** Reads a process's CPU time and memory from /proc (Linux). */
import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

/** utime + stime in ms, from the text of /proc/<pid>/stat. */
export function parseStatCpuMs(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unexpected /proc/<pid>/stat format');
  return ((utime + stime) * 1000) / CLK_TCK;
}

/** A memory field of /proc/<pid>/status in bytes: VmRSS (resident now) or VmHWM (peak resident). */
export function parseStatusRss(status: string, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/<pid>/status`);
  return Number(m[1]) * 1024;
}

export function cpuMs(pid: number): number {
  return parseStatCpuMs(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export function rssBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  return parseStatusRss(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), field);
}
