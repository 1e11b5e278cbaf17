/**
 * Timers come in through options like the clock, so tests fire them by hand instead of sleeping.
 * The system timers are unref'd: a pending timer never keeps a process alive.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Timers {
  /** Calls `fn` once after `ms` milliseconds unless cancelled. */
  set(fn: () => void, ms: number): TimerHandle;
}

export const systemTimers: Timers = {
  set(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
