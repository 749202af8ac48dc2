/**
 * Whether a process of this machine (and process namespace) still runs: signal 0 probes it
 * without touching it; EPERM means it runs under another user.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
