// Loaded into every bench child (by import, or `--import` for programs we do not own) so that a child
// never outlives the bench: if the bench dies without cleaning up (SIGKILL, crash), the child is
// re-parented and notices within half a second. Polling ppid is cruder than an IPC channel, but it
// needs no cooperation from the child program and no open pipe that could keep it alive.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 500).unref();

// Programs without a SIGTERM handler die on the default action, which skips exit hooks such as the
// one that writes a --cpu-prof profile. Exit normally instead, unless the program handles SIGTERM itself.
process.on('SIGTERM', () => {
  if (process.listenerCount('SIGTERM') === 1) process.exit(0);
});

export {};
