/** Calls `attempt` every 50 ms until it stops throwing, or throws its last error after `withinMs`; answers how long it took. */
export async function eventually(withinMs: number, attempt: () => void | Promise<void>): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await attempt();
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > withinMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
