/**
 * Imports a package that the default install leaves out (a heavy model library, the load
 * generator). When that package itself is missing, `missing()` builds the error to throw instead,
 * which names the command that installs it; any other failure while loading passes through.
 */
export async function importOrExplain<T>(name: string, load: () => Promise<T>, missing: () => Error): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (!isMissing(err, name)) throw err;
    throw missing();
  }
}

function isMissing(err: unknown, name: string): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(name);
}
